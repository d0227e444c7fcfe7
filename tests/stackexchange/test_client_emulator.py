"""The client against the emulator over HTTP: answers, errors and faults as they arrive."""

from __future__ import annotations

import socket

import pytest

from stackq.stackexchange.client import StackExchangeClient
from stackq.stackexchange.errors import (
    AccessDenied,
    BadParameter,
    BadUpstreamResponse,
    TemporarilyUnavailable,
    ThrottleViolation,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from stackq.stackexchange.items import parse_question
from stackq.testing.emulator import HOSTILE_QUESTION_IDS, HOSTILE_TITLES
from stackq.testing.emulator_data import HOSTILE_DISPLAY_NAME


@pytest.fixture
def emu(mirrors):
    return mirrors[0]


@pytest.fixture
def client(emu):
    return StackExchangeClient(emu.base_url, timeout=5)


def test_search_decoded_with_wrapper_fields(emu, client):
    resp = client.call("search/advanced", site="stackoverflow", q="python", pagesize=5)
    expected = [it["question_id"] for it in emu.search("stackoverflow", q="python")]
    assert [it["question_id"] for it in resp.items] == expected[:5]
    assert resp.has_more is True
    assert (resp.quota_max, resp.quota_remaining) == (300, 299)
    assert resp.backoff is None and resp.total is None
    assert resp.method == "search/advanced" and resp.mirror == emu.base_url
    assert client.call("sites").quota_remaining == 298


def test_last_page_and_total(emu, client):
    count = len(emu.search("stackoverflow", q="python"))
    total = client.call("search/advanced", site="stackoverflow", q="python", filter="total")
    assert total.total == count and total.items == []
    last_page = -(-count // 100)
    resp = client.call(
        "search/advanced", site="stackoverflow", q="python", pagesize=100, page=last_page
    )
    assert resp.has_more is False
    assert len(resp.items) == count - 100 * (last_page - 1)


def test_bad_parameter(client):
    with pytest.raises(BadParameter) as info:
        client.call("search/advanced", q="python")  # no site
    assert info.value.error_id == 400 and info.value.status == 400
    assert "site" in info.value.error_message


def test_access_denied_beyond_page_25_without_key(emu, client):
    with pytest.raises(AccessDenied) as info:
        client.call("search/advanced", site="stackoverflow", q="python", page=26)
    assert info.value.error_message == "page above 25 requires access token or app key"
    keyed = StackExchangeClient(emu.base_url, key="app-key", timeout=5)
    resp = keyed.call("search/advanced", site="stackoverflow", q="python", page=26)
    assert resp.items and resp.quota_max == 10000


def test_throttle_violation_has_retry_after(emu, client):
    emu.configure(ban_seconds=7)
    emu.set_fault("throttle", count=1)
    with pytest.raises(ThrottleViolation) as info:
        client.call("info", site="stackoverflow")
    assert info.value.retry_after == 7.0
    assert isinstance(info.value, UpstreamError)


@pytest.mark.parametrize(("mode", "error_id", "status"), [("503", 503, 400), ("500", 500, 500)])
def test_unavailable_errors(emu, client, mode, error_id, status):
    emu.set_fault(mode, count=1)
    with pytest.raises(TemporarilyUnavailable) as info:
        client.call("info", site="stackoverflow")
    assert (info.value.error_id, info.value.status) == (error_id, status)
    assert client.call("info", site="stackoverflow").items  # one-shot fault


def test_garbage_body(emu, client):
    emu.set_fault("garbage", count=1)
    with pytest.raises(BadUpstreamResponse):
        client.call("info", site="stackoverflow")


def test_timeout(emu):
    emu.set_fault("timeout", count=1)
    impatient = StackExchangeClient(emu.base_url, timeout=0.3)
    with pytest.raises(UpstreamTimeout) as info:
        impatient.call("info", site="stackoverflow")
    assert info.value.mirror == emu.base_url


def test_connection_reset(emu, client):
    emu.set_fault("reset", count=1)
    with pytest.raises(UpstreamUnreachable):
        client.call("info", site="stackoverflow")


def test_connection_refused():
    with socket.socket() as sock:  # a port that was free a moment ago and now is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = StackExchangeClient(f"http://127.0.0.1:{port}/2.3", timeout=2)
    with pytest.raises(UpstreamUnreachable):
        closed.call("info", site="stackoverflow")


def test_hostile_titles_decoded_once(emu, client):
    resp = client.call("search/advanced", site="stackoverflow", q="python", pagesize=30)
    by_id = {it["question_id"]: it for it in resp.items}
    # The wire really is entity-encoded, so decoding is being exercised.
    assert "&lt;script&gt;" in by_id[HOSTILE_QUESTION_IDS["script"]]["title"]
    for kind, qid in HOSTILE_QUESTION_IDS.items():
        assert parse_question(by_id[qid]).title == HOSTILE_TITLES[kind], kind
    named = parse_question(by_id[HOSTILE_QUESTION_IDS["owner_name"]])
    assert named.owner.display_name == HOSTILE_DISPLAY_NAME
    plain = {it["question_id"]: it for it in emu.search("stackoverflow", q="python")}
    assert all(parse_question(it).title == plain[qid]["title"] for qid, it in by_id.items())


def test_deleted_owner_from_the_wire(client):
    resp = client.call(f"questions/{HOSTILE_QUESTION_IDS['deleted_owner']}", site="stackoverflow")
    (question,) = [parse_question(it) for it in resp.items]
    assert question.owner.user_type == "does_not_exist"
    assert question.owner.user_id is None and question.owner.link is None
    assert question.owner.display_name.startswith("user")

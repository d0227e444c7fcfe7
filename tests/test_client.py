"""Tests of stackq.stackexchange: errors, items, the client and ApiAccess.

Integration tests talk HTTP to the real emulator; a tiny stdlib server covers
the few wire-level cases the emulator does not produce (deflate, bodies
compressed without a Content-Encoding header, uncompressed error bodies).
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
import zlib
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from stackq.settings import Rate
from stackq.stackexchange.access import BACKOFF_MARGIN, ApiAccess
from stackq.stackexchange.client import (
    StackExchangeClient,
    encode_params,
    method_key,
)
from stackq.stackexchange.errors import (
    AccessDenied,
    ApiError,
    BadParameter,
    BadUpstreamResponse,
    RateLimited,
    StackExchangeError,
    TemporarilyUnavailable,
    ThrottleViolation,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
    api_error_from,
)
from stackq.stackexchange.items import parse_question
from stackq.testing.emulator import HOSTILE_QUESTION_IDS, HOSTILE_TITLES
from stackq.testing.emulator_data import HOSTILE_DISPLAY_NAME

# Real captured API answers (sources and licences in SOURCES.txt beside them).
FIXTURES = Path(__file__).parent / "fixtures" / "stackexchange"


# -- pure functions -----------------------------------------------------------


def test_encode_params_drops_none_and_formats_values():
    pairs = encode_params(
        {
            "q": "yield",
            "accepted": True,
            "closed": False,
            "tagged": ["python", "c#"],
            "x": None,
        }
    )
    assert pairs == [
        ("q", "yield"),
        ("accepted", "true"),
        ("closed", "false"),
        ("tagged", "python;c#"),
    ]
    assert encode_params({"page": 2, "ids": (1, 2)}) == [("page", "2"), ("ids", "1;2")]


def test_url_for_adds_site_and_key_and_quotes_path():
    client = StackExchangeClient("http://example.invalid/2.3/", key="k3y")
    url = client.url_for("tags/c#/info", site="stackoverflow", pagesize=5, body=None)
    parts = urlsplit(url)
    assert parts.path == "/2.3/tags/c%23/info"
    assert parse_qs(parts.query) == {
        "pagesize": ["5"],
        "site": ["stackoverflow"],
        "key": ["k3y"],
    }
    assert StackExchangeClient("http://h/2.3").url_for("sites") == "http://h/2.3/sites"
    assert StackExchangeClient("http://h/2.3").url_for("questions/1;2").endswith("questions/1;2")


@pytest.mark.parametrize(
    ("method", "key"),
    [
        ("questions/1;2;3", "questions/{ids}"),
        ("/questions/42/answers", "questions/{ids}/answers"),
        ("search/advanced", "search/advanced"),
        ("me/answers", "users/{ids}/answers"),
        ("sites", "sites"),
    ],
)
def test_method_key_normalises_ids(method, key):
    assert method_key(method) == key


# -- errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error_id", "name", "cls"),
    [
        (400, "bad_parameter", BadParameter),
        (401, "access_token_required", ApiError),
        (403, "access_denied", AccessDenied),
        (404, "no_method", ApiError),
        (500, "internal_error", TemporarilyUnavailable),
        (502, "throttle_violation", ThrottleViolation),
        (503, "temporarily_unavailable", TemporarilyUnavailable),
        (999, "brand_new_error", ApiError),
    ],
)
def test_api_error_from_maps_ids_to_classes(error_id, name, cls):
    exc = api_error_from({"error_id": error_id, "error_name": name, "error_message": "m"}, 400)
    assert type(exc) is cls
    assert (exc.error_id, exc.error_name, exc.error_message, exc.status) == (
        error_id,
        name,
        "m",
        400,
    )
    assert isinstance(exc, UpstreamError)
    assert name in str(exc) and "m" in str(exc)


def test_throttle_retry_after_parsed_from_message():
    quota = api_error_from(
        {
            "error_id": 502,
            "error_message": "too many requests from this IP, "
            "more requests available in 17524 seconds",
            "error_name": "throttle_violation",
        }
    )
    assert isinstance(quota, ThrottleViolation) and quota.retry_after == 17524.0
    backoff = api_error_from(
        {
            "error_id": 502,
            "error_message": "Violation of backoff parameter",
            "error_name": "throttle_violation",
        }
    )
    assert backoff.retry_after is None


def test_rate_limited_is_local_not_upstream():
    exc = RateLimited(12.34)
    assert isinstance(exc, StackExchangeError) and not isinstance(exc, UpstreamError)
    assert exc.retry_after == 12.34
    assert "12.3 seconds" in str(exc)


# -- items --------------------------------------------------------------------


def test_parse_real_search_capture():
    raw = json.loads((FIXTURES / "freesearch_search_advanced_default_2.3.json").read_text())
    questions = [parse_question(item) for item in raw["items"]]
    assert len(questions) == 10
    first = questions[0]
    assert first.question_id == 79646317
    assert first.tags == ("claude", "model-context-protocol")
    assert first.creation_date == datetime.fromtimestamp(1748665466, tz=timezone.utc)
    assert first.creation_date.tzinfo is not None
    assert first.owner.display_name == "Masood Ahmad"
    assert first.owner.user_id == 244696
    assert first.content_license == "CC BY-SA 4.0"
    # Entities in the capture are decoded; none remain.
    assert not any("&amp;" in q.title or "&#39;" in q.title for q in questions)
    assert any("&" in q.title or "'" in q.title for q in questions)


def test_parse_real_capture_without_owner():
    raw = json.loads((FIXTURES / "remotesearch_search_advanced_2.3.json").read_text())
    q = parse_question(raw["items"][0])
    assert q.title == 'What does the "yield" keyword do in Python?'
    assert q.owner is None
    assert q.accepted_answer_id == 231855
    assert q.last_edit_date == datetime.fromtimestamp(1711253482, tz=timezone.utc)
    assert q.closed_date is None


def _question(**overrides):
    item = {
        "tags": ["python"],
        "is_answered": False,
        "view_count": 3,
        "answer_count": 0,
        "score": 1,
        "last_activity_date": 1700000100,
        "creation_date": 1700000000,
        "question_id": 7,
        "link": "https://stackoverflow.com/questions/7/x",
        "title": "t",
    }
    item.update(overrides)
    return item


def test_parse_question_unescapes_exactly_once():
    q = parse_question(
        _question(
            title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;amp; it&#39;s",
            owner={
                "user_type": "registered",
                "user_id": 1,
                "display_name": "A &amp; B",
            },
        )
    )
    # "&amp;amp;" is a literal "&amp;" in the original title; it must stay that.
    assert q.title == '<script>alert("x")</script> &amp; it\'s'
    assert q.owner.display_name == "A & B"


def test_parse_question_deleted_owner():
    q = parse_question(_question(owner={"user_type": "does_not_exist", "display_name": "user123"}))
    assert q.owner.user_type == "does_not_exist"
    assert q.owner.display_name == "user123"
    assert (q.owner.user_id, q.owner.link, q.owner.reputation) == (None, None, None)


def test_parse_question_closed_and_rejects_junk():
    q = parse_question(_question(closed_date=1700000200, closed_reason="Duplicate"))
    assert q.closed_reason == "Duplicate"
    assert q.closed_date == datetime(2023, 11, 14, 22, 16, 40, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_question({"title": "no id"})


# -- wire details via a tiny stdlib server ------------------------------------


OK_BODY = json.dumps(
    {
        "items": [_question()],
        "has_more": False,
        "quota_max": 300,
        "quota_remaining": 250,
    }
).encode()
ERR_BODY = json.dumps(
    {
        "error_id": 400,
        "error_message": "site is required",
        "error_name": "bad_parameter",
    }
).encode()
INTERNAL = json.dumps(
    {"error_id": 500, "error_message": "boom", "error_name": "internal_error"}
).encode()

WIRE_ROUTES: dict[str, tuple[int, dict, bytes]] = {
    "/2.3/deflate": (200, {"Content-Encoding": "deflate"}, zlib.compress(OK_BODY)),
    "/2.3/gzip-no-header": (200, {}, gzip.compress(OK_BODY)),
    "/2.3/plain": (200, {"Content-Type": "application/json"}, OK_BODY),
    "/2.3/plain-error": (400, {}, ERR_BODY),
    "/2.3/internal": (500, {"Content-Encoding": "gzip"}, gzip.compress(INTERNAL)),
    "/2.3/html-502": (502, {}, b"<html>Bad Gateway</html>"),
    "/2.3/bad-gzip": (200, {"Content-Encoding": "gzip"}, b"\x1f\x8bnot really gzip"),
    "/2.3/list": (200, {}, b"[1, 2]"),
    "/2.3/json-404": (404, {}, b'{"items": []}'),
}


WIRE_SEEN: list[tuple[str, dict]] = []


class _Wire(BaseHTTPRequestHandler):
    """Serves canned answers by path; records the last request."""

    def do_GET(self):
        path = urlsplit(self.path).path
        WIRE_SEEN.append((self.path, dict(self.headers)))
        status, headers, body = WIRE_ROUTES.get(path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def wire():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Wire)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield StackExchangeClient(f"http://127.0.0.1:{server.server_port}/2.3", timeout=5)
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["deflate", "gzip-no-header", "plain"])
def test_body_decoded_whatever_the_encoding(wire, path):
    resp = wire.call(path, site="stackoverflow")
    assert resp.items[0]["question_id"] == 7
    assert (resp.has_more, resp.quota_max, resp.quota_remaining) == (False, 300, 250)
    assert resp.backoff is None and resp.total is None
    assert resp.method == path and resp.mirror == wire.base_url


def test_request_headers_and_query(wire):
    WIRE_SEEN.clear()
    wire.call("plain", site="stackoverflow", accepted=True, tagged=["a", "b"], q=None)
    path, headers = WIRE_SEEN[-1]
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["accept-encoding"] == "gzip, deflate"
    assert lower["user-agent"] == "stackq/0.1"
    assert parse_qs(urlsplit(path).query) == {
        "accepted": ["true"],
        "tagged": ["a;b"],
        "site": ["stackoverflow"],
    }


def test_uncompressed_error_body(wire):
    with pytest.raises(BadParameter) as info:
        wire.call("plain-error")
    assert info.value.status == 400
    assert info.value.error_message == "site is required"
    assert info.value.mirror == wire.base_url


def test_http_500_with_error_object(wire):
    with pytest.raises(TemporarilyUnavailable) as info:
        wire.call("internal")
    assert (info.value.error_id, info.value.status) == (500, 500)


@pytest.mark.parametrize("path", ["html-502", "bad-gzip", "list", "json-404"])
def test_unusable_answers(wire, path):
    with pytest.raises(BadUpstreamResponse):
        wire.call(path)


# -- integration: the client against the emulator over HTTP ------------------


@pytest.fixture
def emu(mirrors):
    return mirrors[0]


@pytest.fixture
def emu2(mirrors):
    return mirrors[1]


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


# -- integration: ApiAccess without Redis (one process keeps the limits) -------


def test_backoff_honoured(emu):
    emu.configure(backoff={"search/advanced": 1})
    access = ApiAccess([emu.base_url], timeout=5)
    first = access.fetch("search/advanced", site="stackoverflow", q="python")
    assert first.backoff == 1
    assert "search/advanced" in access.status().mirrors[0].backoff
    started = time.monotonic()
    access.fetch("search/advanced", site="stackoverflow", q="python", page=2)
    assert time.monotonic() - started >= 1.0
    assert emu.stats()["violations"] == 0
    # Without ApiAccess the same second call is refused, so the check above means something.
    with pytest.raises(ThrottleViolation) as info:
        StackExchangeClient(emu.base_url).call("search/advanced", site="stackoverflow", q="x")
    assert info.value.retry_after is None


def test_backoff_is_per_method_and_bounded(emu):
    emu.configure(backoff={"search/advanced": 5})
    access = ApiAccess([emu.base_url], timeout=5, max_wait=0.5)
    access.fetch("search/advanced", site="stackoverflow", q="python")
    # Another method is not held back (max_wait=0.5 would refuse a 5 s wait).
    assert access.fetch("info", site="stackoverflow").items
    with pytest.raises(RateLimited) as info:
        access.fetch("search/advanced", site="stackoverflow", q="python", page=2)
    assert 4 < info.value.retry_after <= 5 + BACKOFF_MARGIN
    assert emu.stats()["by_method"]["search/advanced"] == 1  # refused locally, never sent
    assert access.status().mirrors[0].quota_remaining == 298


def test_backoff_serialises_concurrent_callers(emu):
    emu.configure(backoff={"questions": 1})
    access = ApiAccess([emu.base_url], timeout=5)
    access.fetch("questions/231767", site="stackoverflow")
    errors = []

    def worker(qid):
        try:
            access.fetch(f"questions/{qid}", site="stackoverflow")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(qid,)) for qid in (79900011, 79900023)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert emu.stats()["violations"] == 0
    assert emu.stats()["by_method"]["questions"] == 3


def test_calls_spread_over_mirrors(emu, emu2):
    access = ApiAccess([emu.base_url, emu2.base_url], timeout=5)
    mirrors = {access.fetch("info", site="stackoverflow", n=n).mirror for n in range(6)}
    assert mirrors == {emu.base_url, emu2.base_url}
    assert emu.stats()["requests"] + emu2.stats()["requests"] == 6
    # The limiter picks the mirror with the emptier window: 3 and 3.
    assert emu.stats()["requests"] == emu2.stats()["requests"] == 3


def test_identical_calls_in_flight_are_made_once(emu):
    access = ApiAccess([emu.base_url], timeout=5, max_rate=Rate(1, 1))
    access.fetch("info", site="stackoverflow", n="fill")  # the next slot is ~1 s away
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(access.fetch("info", site="stackoverflow")))
        for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 10 and len({id(r) for r in results}) == 1
    assert emu.stats()["requests"] == 2


def test_backoff_uses_another_free_mirror(emu, emu2):
    emu.configure(backoff={"search/advanced": 5})
    emu2.configure(backoff={"search/advanced": 5})
    access = ApiAccess([emu.base_url, emu2.base_url], timeout=5, max_wait=0)
    seen = {
        access.fetch("search/advanced", site="stackoverflow", q="python", page=n).mirror
        for n in (1, 2)
    }
    # The first mirror is backing off, so the second call goes to the other one at once.
    assert seen == {emu.base_url, emu2.base_url}
    with pytest.raises(RateLimited):
        access.fetch("search/advanced", site="stackoverflow", q="python", page=3)
    assert emu.stats()["violations"] == emu2.stats()["violations"] == 0


def test_throttle_fails_over_and_blocks_mirror(emu, emu2):
    emu.configure(ban_seconds=30)
    emu.set_fault("throttle")
    access = ApiAccess([emu.base_url, emu2.base_url], timeout=5, max_wait=1)
    assert {access.fetch("info", site="stackoverflow", n=n).mirror for n in range(4)} == {
        emu2.base_url
    }
    assert emu.stats()["requests"] == 1  # the blocked mirror is left alone
    banned = access.status().mirrors[0]
    assert banned.banned_for > 20 and banned.ban_reason == "throttled"


def test_throttle_everywhere_reraises_then_rate_limits(emu, emu2):
    for server in (emu, emu2):
        server.configure(ban_seconds=30)
        server.set_fault("throttle")
    access = ApiAccess([emu.base_url, emu2.base_url], timeout=5, max_wait=1)
    with pytest.raises(ThrottleViolation):
        access.fetch("info", site="stackoverflow")
    assert emu.stats()["requests"] == emu2.stats()["requests"] == 1
    with pytest.raises(RateLimited) as info:
        access.fetch("info", site="stackoverflow")
    assert info.value.retry_after > 20

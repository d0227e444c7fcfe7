"""How the client builds a call (parameters, URL, method key) and reads the answer on the wire.

A tiny stdlib server covers the wire-level cases the emulator does not produce (deflate,
bodies compressed without a Content-Encoding header, uncompressed error bodies).
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from stackq.stackexchange.client import (
    MAX_BACKOFF,
    StackExchangeClient,
    encode_params,
    method_key,
)
from stackq.stackexchange.errors import (
    BadParameter,
    BadUpstreamResponse,
    TemporarilyUnavailable,
)
from tests.support.api_items import question_item


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


OK_BODY = json.dumps(
    {
        "items": [question_item()],
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

# A NUL and half a surrogate pair, as JSON escapes: valid JSON, but no database stores them.
UNSTORABLE_BODY = json.dumps(
    {"items": [question_item(title="nul\x00title", tags=["a\ud800b"],
                             owner={"display_name": "x\udfff\x00"})]}
).encode()

WIRE_ROUTES: dict[str, tuple[int, dict, bytes]] = {
    # A back-off past any clock: an integer of 401 digits, and JSON's non-standard Infinity.
    "/2.3/endless-backoff": (200, {}, b'{"items": [], "backoff": 1' + b"0" * 400 + b"}"),
    "/2.3/infinite-backoff": (200, {}, b'{"items": [], "backoff": Infinity}'),
    "/2.3/huge-total": (200, {}, b'{"items": [], "total": 10000000000000}'),
    "/2.3/unstorable": (200, {}, UNSTORABLE_BODY),
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


def test_text_no_database_stores_is_replaced_as_it_is_read(wire):
    assert b"\\u0000" in UNSTORABLE_BODY and b"\\ud800" in UNSTORABLE_BODY
    item = wire.call("unstorable").items[0]
    assert item["title"] == "nul\ufffdtitle" and item["tags"] == ["a\ufffdb"]
    assert item["owner"]["display_name"] == "x\ufffd\ufffd"
    assert item["question_id"] == 7 and item["creation_date"] == 1700000000


@pytest.mark.parametrize("path", ["endless-backoff", "infinite-backoff"])
def test_a_back_off_past_any_clock_is_kept_as_the_longest_one(wire, path):
    """Obeyed, not dropped (that would hide it), and held where a clock can add it: 1e400
    seconds overflowed the limiters' float arithmetic, and int() refuses Infinity."""
    answer = wire.call(path)
    assert answer.backoff == MAX_BACKOFF


def test_a_total_past_what_a_column_holds_is_held_at_its_bound(wire):
    assert wire.call("huge-total").total == 2**31 - 1

"""`/ws` on the real servers (pserve's gevent runner, gunicorn's worker): notices, Origin."""

import json
import signal
import socket
import urllib.error
import urllib.request

import pytest
import websocket

from stackq.infra.clock import utcnow
from stackq.infra.pubsub import channel_of, publish
from stackq.notify import query_updated
from tests.support.refresh_cycles import stored_page_one, top_ids
from tests.support.stack import (
    open_stack,
    receive_notice,
    run_refresher,
    running_web,
    ws_url,
)
from tests.support.waiting import wait_until

FRIEND = "https://friend.example"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, emulator):
    tmp = tmp_path_factory.mktemp("notify")
    # A key: the refresh plan then refreshes every search in every cycle, at any time of day.
    with open_stack(tmp, emulator.base_url, **{"stackq.ws.ping_interval": "0.5",
                                               "stackq.ws.allowed_origins": FRIEND,
                                               "stackq.api.key": "notify-tests"}) as stack:
        yield stack


@pytest.fixture(scope="module", params=["pserve", "gunicorn"])
def server(request, stack):
    with running_web(request.param, stack.ini) as server:
        yield server


def connect(server, origin=None, path="/ws"):
    return websocket.create_connection(ws_url(server, path), timeout=10,
                                       origin=origin or server.url)


def close_frame(ws):
    """(code, reason) of the close frame the server sends next, skipping pings."""
    while True:
        opcode, frame = ws.recv_data_frame(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(frame.data[:2], "big"), frame.data[2:].decode()


def wait_for_listeners(stack, count=1):
    """The server's subscriber is up (a notice published before would be lost)."""
    wait_until(lambda: stack.redis.pubsub_numsub(channel_of(stack.redis))[0][1] >= count, 10,
               "the web process to subscribe")


def test_refresh_once_notifies_a_connected_browser(server, clean, upstream):
    search_id = clean.save_search("asyncio")
    ws = connect(server)
    wait_for_listeners(clean)
    # (Deletions are found by the re-read, within stackq.refresh.full_every.)
    upstream.mutate("stackoverflow", "asyncio", new=3, changed=5)

    done = run_refresher(clean.ini, "--once", "--force")

    assert done.returncode == 0, done.stderr
    notice = receive_notice(ws, search_id)
    # Committed before it was announced: a reload now shows the new rows.
    assert stored_page_one(clean, search_id) == top_ids(upstream, q="asyncio")
    assert {k: notice[k] for k in ("q", "site", "new", "changed", "removed")} == {
        "q": "asyncio", "site": "stackoverflow", "new": 3, "changed": 5, "removed": 0}
    ws.close()


def test_every_connected_socket_gets_the_notice(server, stack):
    sockets = [connect(server) for _ in range(5)]
    wait_for_listeners(stack)
    publish(stack.redis, query_updated(99, "fan out", "stackoverflow", 1, 0, 0, utcnow()))
    assert [receive_notice(ws, 99)["q"] for ws in sockets] == ["fan out"] * 5
    for ws in sockets:
        ws.close()


def test_internal_events_do_not_reach_browsers(server, stack):
    ws = connect(server)
    wait_for_listeners(stack)
    publish(stack.redis, {"type": "cache_invalidated", "search_ids": [1]})
    publish(stack.redis, query_updated(98, "after", "stackoverflow", 0, 1, 0, utcnow()))
    ws.settimeout(10)
    assert json.loads(ws.recv())["query_id"] == 98
    ws.close()


def handshake(server, path="/ws", version="13", origin=None):
    """Status line, headers and body of a raw WebSocket handshake."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Version: {version}",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
    if origin:
        lines.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return status, headers, body.decode()


def test_foreign_origin_is_refused_before_upgrading(server):
    status, _, body = handshake(server, origin="http://evil.example")
    assert status.startswith("HTTP/1.1 403 ") and body == "origin not allowed\n"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(server, origin="http://evil.example")
    assert refused.value.status_code == 403


def test_unsupported_websocket_version_is_426_naming_13(server):
    status, headers, body = handshake(server, version="99")
    assert status.startswith("HTTP/1.1 426 ")
    assert headers["Sec-WebSocket-Version"] == "13"
    assert "version 13" in body
    assert "Traceback" not in server.output()


def test_listed_origin_is_allowed_and_pinged(server):
    ws = connect(server, origin=FRIEND)
    opcode, _ = ws.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_PING
    ws.close()
    assert "Traceback" not in server.output()


def test_upgrade_of_another_path_is_refused(server):
    status, _, body = handshake(server, path="/queries/new")
    assert status.startswith("HTTP/1.1 404 ")
    assert body == "WebSockets are served at /ws only\n"


def test_plain_get_of_ws_says_what_it_is(server):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(server.url + "/ws", timeout=10)
    assert error.value.code == 400
    assert "WebSocket only" in error.value.read().decode()


@pytest.mark.parametrize("kind", ["pserve", "gunicorn"])
def test_stopping_the_server_says_going_away(kind, stack):
    with running_web(kind, stack.ini) as server:
        ws = connect(server)
        # A ping: the socket is being served (and known to the hub).
        assert ws.recv_data_frame(control_frame=True)[0] == websocket.ABNF.OPCODE_PING
        server.proc.send_signal(signal.SIGTERM)
        assert close_frame(ws)[0] == 1001
        assert server.proc.wait(15) == 0
        assert "Traceback" not in server.output()

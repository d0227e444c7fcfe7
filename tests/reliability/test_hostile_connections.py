"""Clients that would hold a server's memory, connections or admission slots, on the real
servers (pserve's gevent runner, gunicorn's worker) with short limits: WebSocket frames
declaring megabytes, bodies declared huge or sent slowly, requests left half-written, one
address opening connection after connection. Each is refused or dropped, unread, and the
server goes on answering everyone else."""

import json
import select
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.support.hostile import (
    KEY,
    OPCODE_BINARY,
    OPCODE_CLOSE,
    OPCODE_CONTINUATION,
    OPCODE_PING,
    OPCODE_PONG,
    OPCODE_TEXT,
    client_frame,
    close_code,
    connect,
    frame_header,
    open_websocket,
    read_head,
    server_frame,
    status_of,
    upload_head,
)
from tests.support.stack import running_web
from tests.support.waiting import wait_until

SILENCE_LIMIT = 1.5  # seconds; pings every 0.5
STACK_SETTINGS = {"stackq.ws.ping_interval": "0.5",
                  "stackq.ws.silence_limit": str(SILENCE_LIMIT)}
CLIENT_CONNECTIONS = 24
SERVER_SETTINGS = {
    "body_timeout": "3", "header_timeout": "3", "idle_timeout": "3",
    "client_connections": str(CLIENT_CONNECTIONS),
    # One slot, and a wait at the door long enough that a held slot shows.
    "admission_size": "1", "admission_longest_wait": "30",
}


@pytest.fixture(scope="module", params=["pserve", "gunicorn"])
def server(request, stack):
    with running_web(request.param, stack.ini, server_settings=SERVER_SETTINGS) as server:
        yield server


def page_answers(server, path="/"):
    with urllib.request.urlopen(server.url + path, timeout=10) as answer:
        return answer.status == 200


def answers(server):
    try:
        return page_answers(server)
    except urllib.error.HTTPError:
        return False


def is_closed(sock):
    """Whether the server closed `sock` (read to its end, within the socket's timeout)."""
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return True


@pytest.mark.parametrize("declared", [16 << 20, 1 << 30], ids=["16 MB", "1 GiB"])
def test_a_frame_declaring_more_than_a_message_is_refused_unread(server, declared):
    with open_websocket(server.port) as sock:
        # The header and a first slice only: a server that read the payload would wait.
        sock.sendall(frame_header(OPCODE_BINARY, declared) + b"x" * 65536)
        assert close_code(sock) == 1009
    assert page_answers(server)
    assert "Traceback" not in server.output(), server.output()[-3000:]


def test_a_frame_sent_with_the_handshake_itself_is_refused_as_well(server):
    # In the handshake's packet: the server's read buffer holds it when the socket is
    # handed to the reader, which must start from there.
    with connect(server.port) as sock:
        sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                      f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n\r\n"
                      ).encode() + frame_header(OPCODE_BINARY, 1 << 30))
        assert read_head(sock).startswith("HTTP/1.1 101 ")
        assert close_code(sock) == 1009
    assert page_answers(server)


def test_fragments_past_a_message_are_refused(server):
    with open_websocket(server.port) as sock:
        sock.sendall(client_frame(OPCODE_TEXT, b"x" * 1024, fin=False))
        for _ in range(4):  # the fourth brings the message past 4 KB
            sock.sendall(client_frame(OPCODE_CONTINUATION, b"x" * 1024, fin=False))
        assert close_code(sock) == 1009
    assert page_answers(server)


def test_a_message_within_the_limit_is_read_and_a_close_answered_with_its_code(server):
    with open_websocket(server.port) as sock:
        sock.sendall(client_frame(OPCODE_TEXT, b"x" * 4000))
        sock.sendall(client_frame(OPCODE_CLOSE, (1000).to_bytes(2, "big")))
        assert close_code(sock) == 1000


def test_a_silent_socket_is_closed(server):
    with open_websocket(server.port) as sock:
        assert close_code(sock, answer_pings=False) == 1001


def test_a_socket_answering_pings_stays_open(server):
    with open_websocket(server.port, timeout=1) as sock:
        deadline = time.monotonic() + 3 * SILENCE_LIMIT
        pings = 0
        while time.monotonic() < deadline:
            opcode, payload = server_frame(sock)
            assert opcode == OPCODE_PING, opcode
            pings += 1
            sock.sendall(client_frame(OPCODE_PONG, payload))
        assert pings >= 3


def test_a_declared_body_past_the_limit_is_refused_unread(server):
    with connect(server.port) as sock:
        sock.sendall(upload_head(server.port, 300_000_000))
        assert status_of(sock) == 413
        assert is_closed(sock)  # not waiting for 300 MB it would only throw away
    assert page_answers(server)


def test_the_json_api_refuses_a_body_past_the_limit_in_json(server):
    with connect(server.port) as sock:
        sock.sendall(upload_head(server.port, 300_000_000, path="/api/tasks"))
        head = read_head(sock)
        assert head.startswith("HTTP/1.1 413") and "Content-Type: application/json" in head
        body = json.loads(sock.recv(4096))
    assert body["errors"][0]["message"].startswith("stackq takes at most")


def test_a_chunked_body_past_the_limit_is_refused(server):
    with connect(server.port) as sock:
        head = upload_head(server.port, 0).replace(b"Content-Length: 0",
                                                   b"Transfer-Encoding: chunked")
        chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
        try:
            sock.sendall(head + chunk * 5)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert status_of(sock) == 413


def test_a_body_sent_too_slowly_is_dropped(server):
    with connect(server.port) as sock:
        sock.sendall(upload_head(server.port, 1000) + b"q=slow")
        assert status_of(sock) == 408
        assert is_closed(sock)


def slow_upload(server, chunked):
    """A socket sending the start of a form, the rest never."""
    sock = connect(server.port)
    head = upload_head(server.port, 1000)
    if chunked:
        head = head.replace(b"Content-Length: 1000", b"Transfer-Encoding: chunked")
        sock.sendall(head + b"6\r\nq=slow\r\n")
    else:
        sock.sendall(head + b"q=slow")
    return sock


def test_slow_uploads_hold_no_admission_slot(server):
    assert page_answers(server)  # cached now
    uploads = [slow_upload(server, chunked=i % 2 == 0) for i in range(6)]
    try:
        # One slot, 30 s at the door: an upload holding it would keep this page waiting.
        assert page_answers(server)
        statuses = []
        threads = [threading.Thread(target=lambda s=s: statuses.append(status_of(s)))
                   for s in uploads]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [408] * len(uploads)
    finally:
        for sock in uploads:
            sock.close()


HALF_WRITTEN = {
    "a request line": b"GET / HT",
    "headers": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: te",
    "a WebSocket handshake": (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                              b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"),
}


@pytest.mark.parametrize("kind", HALF_WRITTEN)
def test_a_half_written_request_is_closed(server, kind):
    with connect(server.port) as sock:
        sock.sendall(HALF_WRITTEN[kind])
        assert status_of(sock) in (0, 408)
        assert is_closed(sock)


def test_an_idle_connection_is_closed(server):
    with connect(server.port) as sock:
        assert is_closed(sock)


def test_an_idle_keep_alive_connection_is_closed(server):
    with connect(server.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status_of(sock) == 200
        assert is_closed(sock)


def test_connections_past_the_per_client_cap_are_refused(server):
    socks = [connect(server.port) for _ in range(CLIENT_CONNECTIONS + 8)]
    try:
        time.sleep(0.5)  # the server has taken them all in
        readable, _, _ = select.select(socks, [], [], 1)
        refused = [sock for sock in readable if status_of(sock) == 503]
        assert len(refused) >= 8, len(refused)
        assert len(socks) - len(readable) <= CLIENT_CONNECTIONS
    finally:
        for sock in socks:
            sock.close()
    # Closed connections are no longer counted: this client is served again.
    wait_until(lambda: answers(server), 5, "the server to count the closed connections out")
    assert "Traceback" not in server.output(), server.output()[-3000:]

"""An upgraded socket that the app hands back to stackq's handler (`SERVE_LATER`) is served
after the app has returned: no frame of the app, nor the handshake's environ, is kept while
the socket stays open, and what the client sent along with its handshake is read first."""

import sys

import gevent
import pytest
from gevent import socket as gsocket

from stackq.infra.registry import SERVE_LATER
from stackq.server.frames import SocketReader
from stackq.server.runner import make_server
from tests.support.hostile import (
    KEY,
    OPCODE_CLOSE,
    OPCODE_TEXT,
    client_frame,
    read_head,
    server_frame,
)


def handing_over_app(seen):
    """A WSGI app that hands its WebSocket back; its session notes what it finds."""
    def app(environ, start_response):
        ws = environ["wsgi.websocket"]

        def session():
            seen["returned"] = seen.get("app returned", False)
            seen["environ"] = ws.handler.environ
            codes, frame = set(), sys._getframe()
            while frame is not None:
                codes.add(frame.f_code)
                frame = frame.f_back
            seen["app on the stack"] = app.__code__ in codes
            seen["messages"] = [ws.receive(), ws.receive()]
            seen["after"] = ws.receive()  # None: the client closed

        environ[SERVE_LATER](session)
        seen["app returned"] = True
        return []

    return app


@pytest.fixture
def served():
    seen = {}
    server = make_server(handing_over_app(seen), "127.0.0.1", 0)
    server.start()
    yield server.address[1], seen
    server.stop(timeout=1)


def test_the_socket_is_served_after_the_app_returned_and_reads_what_came_first(served):
    port, seen = served
    sock = gsocket.create_connection(("127.0.0.1", port), timeout=10)
    with sock:
        sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                      f"Sec-WebSocket-Key: {KEY}\r\n\r\n").encode()
                     + client_frame(OPCODE_TEXT, b"with the handshake"))
        assert read_head(sock).startswith("HTTP/1.1 101 ")
        sock.sendall(client_frame(OPCODE_TEXT, b"after it"))
        sock.sendall(client_frame(OPCODE_CLOSE, (1000).to_bytes(2, "big")))
        opcode, payload = server_frame(sock)
    gevent.sleep(0.1)  # the session notes its last receive
    assert (opcode, payload[:2]) == (OPCODE_CLOSE, (1000).to_bytes(2, "big"))
    assert seen["returned"] and not seen["app on the stack"]
    assert seen["environ"] is None
    assert seen["messages"] == ["with the handshake", "after it"]
    assert seen["after"] is None


def test_a_socket_reader_starts_from_what_came_first_and_reads_across_writes():
    server, client = gsocket.socketpair()
    with server, client:
        reader = SocketReader(server, b"ab")
        client.sendall(b"c")
        gevent.spawn_later(0.05, client.sendall, b"defg")
        assert reader.read(1) == b"a"
        assert reader.read(4) == b"bcde"  # waits for the second write
        client.close()
        assert reader.read(5) == b"fg"  # fewer: the peer closed
        assert reader.read(1) == b""

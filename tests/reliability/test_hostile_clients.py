"""Hostile clients on the real servers (pserve's gevent runner, gunicorn's worker): broken
HTTP, broken WebSocket handshakes and frames. Each gets a 4xx or a closed socket; the server
logs no traceback and goes on serving everyone else."""

import socket
import struct
import urllib.request

import pytest
import websocket

from stackq.infra.clock import utcnow
from stackq.infra.pubsub import channel_of, publish
from stackq.notify import query_updated
from tests.support.stack import receive_notice, running_web, ws_url
from tests.support.waiting import wait_until

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


@pytest.fixture(scope="module", params=["pserve", "gunicorn"])
def server(request, stack):
    with running_web(request.param, stack.ini) as server:
        yield server


def raw(server, data, read=True):
    """Send raw bytes; the status line of the answer ('' if the server just closed)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        if not read:
            return ""
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
    return answer.split(b"\r\n", 1)[0].decode("latin-1")


def upgrade(path="/ws", version="13", key=KEY, extra=""):
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Version: {version}\r\n"
            f"Sec-WebSocket-Key: {key}\r\n{extra}\r\n").encode()


BROKEN_HTTP = {
    "garbage request line": b"GARBAGE\r\n\r\n",
    "unknown HTTP version": b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    "Content-Length in words": b"POST /queries HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",
    "negative Content-Length": b"POST /queries HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    "two Content-Lengths": (b"POST /queries HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                            b"Content-Length: 2\r\n\r\nab"),
    "forged Host": b"GET / HTTP/1.1\r\nHost: evil.example\"><script>\r\n\r\n",
    "invalid UTF-8 path": b"GET /%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n",
    "raw invalid bytes in the path": b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    "NUL in the query": b"GET /queries/1?page=%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    "WebSocket version 99": upgrade(version="99"),
    "WebSocket without a version": upgrade(version=""),
    "WebSocket with a bad key": upgrade(key="!!!"),
    "WebSocket key of 4 bytes": upgrade(key="AAAAAA=="),
    "WebSocket from a foreign origin": upgrade(extra="Origin: http://evil.example\r\n"),
    "WebSocket on another path": upgrade(path="/queries/new"),
    "WebSocket over HTTP/1.0": upgrade().replace(b"HTTP/1.1", b"HTTP/1.0", 1),
}


@pytest.mark.parametrize("kind", BROKEN_HTTP)
def test_broken_http_gets_a_4xx(server, kind):
    status = raw(server, BROKEN_HTTP[kind])
    assert status.startswith(("HTTP/1.1 4", "HTTP/1.0 4")), (kind, status)
    assert "Traceback" not in server.output(), server.output()[-3000:]


def frame(opcode, payload, rsv=0, mask=True, fin=True):
    """One client frame, masked as RFC 6455 requires (unless told otherwise)."""
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    length = len(payload)
    bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([bit | length])
    elif length < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", length)
    if not mask:
        return head + payload
    key = b"\x01\x02\x03\x04"
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


BAD_FRAMES = {
    "a text command": frame(0x1, b'{"type": "subscribe", "query_id": "*"}'),
    "invalid UTF-8 text": frame(0x1, b"\xff\xfe\xfd"),
    "a binary frame": frame(0x2, b"\x00" * 64),
    "a 1 MiB frame": frame(0x2, b"x" * (1 << 20)),
    "reserved bits set": frame(0x1, b"hi", rsv=0b111),
    "a reserved opcode": frame(0x3, b"hi"),
    "an unmasked frame": frame(0x1, b"hi", mask=False),
    "a fragmented control frame": frame(0x9, b"ping", fin=False),
    "a close with an invalid code": frame(0x8, struct.pack("!H", 999)),
    "a close with a 1-byte body": frame(0x8, b"\x03"),
    "a length past the data": frame(0x2, b"x" * 10)[:-5],
}


@pytest.mark.parametrize("kind", BAD_FRAMES)
def test_bad_websocket_frames_close_that_socket_only(server, stack, kind):
    listener = websocket.create_connection(ws_url(server), timeout=10, origin=server.url)
    wait_until(lambda: stack.redis.pubsub_numsub(channel_of(stack.redis))[0][1] >= 1, 10,
               "the web process to subscribe")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(upgrade())
        assert sock.recv(4096).startswith(b"HTTP/1.1 101 ")
        try:
            sock.sendall(BAD_FRAMES[kind])
        except (BrokenPipeError, ConnectionResetError):
            pass
    # Everyone else is still served: pages, and notices to the other socket.
    assert urllib.request.urlopen(server.url + "/", timeout=10).status == 200
    publish(stack.redis, query_updated(7, "still here", "stackoverflow", 1, 0, 0, utcnow()))
    assert receive_notice(listener, 7)["q"] == "still here"
    listener.close()
    assert "Traceback" not in server.output(), server.output()[-3000:]

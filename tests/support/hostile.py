"""Clients as an attacker writes them, over raw sockets: WebSocket frames of any declared
length, bodies sent a few bytes at a time, requests left half-written."""

import socket
import struct
import time

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
MASK = b"\x01\x02\x03\x04"
OPCODE_CONTINUATION, OPCODE_TEXT, OPCODE_BINARY = 0x0, 0x1, 0x2
OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG = 0x8, 0x9, 0xA


def connect(port, timeout=10):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_head(sock):
    """The status line and headers of an answer, up to the blank line ('' if closed)."""
    head = b""
    try:
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)
            if not chunk:
                break
            head += chunk
    except ConnectionResetError:
        pass
    return head.decode("latin-1")


def status_of(sock):
    """The status code of the answer on `sock` (0 when the server closed without one)."""
    line = read_head(sock).split("\r\n", 1)[0]
    return int(line.split()[1]) if line.startswith("HTTP/") else 0


def open_websocket(port, timeout=10):
    """A raw socket on `/ws`, upgraded (101 read)."""
    sock = connect(port, timeout)
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                  f"Sec-WebSocket-Key: {KEY}\r\n\r\n").encode())
    head = read_head(sock)
    assert head.startswith("HTTP/1.1 101 "), head
    return sock


def frame_header(opcode, length, fin=True):
    """A masked client frame's header declaring `length` bytes of payload."""
    head = bytes([(0x80 if fin else 0) | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", length)
    return head + MASK


def client_frame(opcode, payload, fin=True):
    """A whole masked client frame."""
    return frame_header(opcode, len(payload), fin) + bytes(
        b ^ MASK[i % 4] for i, b in enumerate(payload))


def _exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed mid-frame")
        data += chunk
    return data


def server_frame(sock):
    """(opcode, payload) of the next frame the server sends (unmasked)."""
    first, second = _exactly(sock, 2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", _exactly(sock, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", _exactly(sock, 8))[0]
    return first & 0x0F, _exactly(sock, length)


def close_code(sock, answer_pings=False, within=10.0):
    """The code of the close frame the server sends within `within` seconds, past pings
    (answered if told); AssertionError if none comes."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        opcode, payload = server_frame(sock)
        if opcode == OPCODE_CLOSE:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        if opcode == OPCODE_PING and answer_pings:
            sock.sendall(client_frame(OPCODE_PONG, payload))
    raise AssertionError(f"no close frame in {within} s")


def upload_head(port, length, path="/queries"):
    """A form POST's request line and headers declaring a `length`-byte body."""
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()

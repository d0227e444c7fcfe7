"""A WebSocket that reads only what stackq's pages send: a few bytes, now and then.

geventwebsocket reads whatever length a frame header declares, in one call: a frame declaring
1 GiB reserved 1 GiB at once, a 16 MB one stalled every request of the process while it was
unmasked byte by byte, and unfinished fragments piled up without a bound. Browsers send stackq
nothing but pongs and a close (`stackq.notify.websocket`), so a message (all its fragments
together) of more than `MAX_WS_MESSAGE` bytes is refused with 1009 on its header alone, and a
socket silent for longer than `silence_limit` seconds (set by whoever serves it, from its ping
interval) is closed as dead.

Imports nothing that imports ``ssl`` (the handler imports this before gunicorn's workers patch).
"""

import struct

import gevent
from geventwebsocket.exceptions import ProtocolError, WebSocketError
from geventwebsocket.websocket import MSG_ALREADY_CLOSED, Header, WebSocket

from ..web.limits import MAX_WS_MESSAGE

GOING_AWAY = 1001
PROTOCOL_ERROR = 1002
INVALID_DATA = 1007
MESSAGE_TOO_BIG = 1009


# What a socket's reader asks the kernel for at least: browsers send a pong now and then
# (6 bytes) and a close.
READ_SIZE = 256


class SocketReader:
    """An upgraded socket's `read(count)`: what is left of the handshake's read, then
    `recv`, in Python.

    Not pywsgi's `io.BufferedReader`: its 8 KB buffer was 3.5 KB of each open socket's 25,
    and its `read` calls the socket back in Python, which kept a second interpreter on the
    C stack of every waiting greenlet (benchmarks/notify.py).
    """

    __slots__ = ("sock", "pending")

    def __init__(self, sock, pending=b""):
        self.sock = sock
        self.pending = pending

    def read(self, count):
        """`count` bytes, fewer only if the peer closed first."""
        data = self.pending
        while len(data) < count:
            chunk = self.sock.recv(max(count - len(data), READ_SIZE))
            if not chunk:
                break
            data += chunk
        self.pending = data[count:]
        return data[:count]


class MessageTooBig(Exception):
    """A frame's header declared more than the socket takes."""


class Silent(Exception):
    """The peer sent nothing, not even a pong, for longer than the silence limit."""


class BoundedWebSocket(WebSocket):
    """geventwebsocket's WebSocket with a bound on what it reads and for how long it waits,
    and close frames that carry their code (the parent's leave it out)."""

    __slots__ = ("max_message", "unfinished", "silence_limit")

    def __init__(self, environ, stream, handler, max_message=MAX_WS_MESSAGE):
        super().__init__(environ, stream, handler)
        self.max_message = max_message
        self.unfinished = 0  # bytes of the fragmented message read so far
        self.silence_limit = None  # seconds; None: wait for ever

    def read_through(self, read):
        """Read from now on with `read` (the handler's `SocketReader`)."""
        self.stream.read = self.raw_read = read

    def read_frame(self):
        """The next frame: its header, then its payload only if it fits."""
        with gevent.Timeout(self.silence_limit, Silent):
            header = Header.decode_header(self.stream)
            if header.flags:
                raise ProtocolError("reserved bits set")
            is_data = header.opcode < self.OPCODE_CLOSE
            if is_data and self.unfinished + header.length > self.max_message:
                raise MessageTooBig(f"a message of more than {self.max_message} bytes")
            payload = self.raw_read(header.length) if header.length else b""
        if len(payload) != header.length:
            raise WebSocketError("Unexpected EOF reading frame payload")
        if header.mask:
            payload = header.unmask_payload(payload)
        if is_data:
            self.unfinished = 0 if header.fin else self.unfinished + header.length
        return header, payload

    def receive(self):
        """The next message, or None once the socket is closed (with the code saying why)."""
        if self.closed:
            raise WebSocketError(MSG_ALREADY_CLOSED)
        try:
            return self.read_message()
        except MessageTooBig:
            self.close(MESSAGE_TOO_BIG, "message too big")
        except Silent:
            self.close(GOING_AWAY, "no answer to pings")
        except UnicodeError:
            self.close(INVALID_DATA)
        except ProtocolError:
            self.close(PROTOCOL_ERROR)
        except OSError:  # the peer left, or broke off mid-frame
            self.close()
        return None

    def close(self, code=1000, message=b""):
        if self.closed:
            return
        reason = message.encode("utf-8") if isinstance(message, str) else bytes(message or b"")
        try:
            self.send_frame(struct.pack("!H", code) + reason[:123], self.OPCODE_CLOSE)
        except OSError:
            pass  # the peer is gone already
        finally:
            self.closed = True
            self.stream = self.raw_write = self.raw_read = self.environ = None

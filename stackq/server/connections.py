"""What one connection may cost a server process: how long it may take over each part of a
request, and how many one client may hold open at once.

Without them a socket that sent half a request line stayed open for minutes, a body sent at
100 bytes a second was waited for as long as it took, and 300 slow WebSocket handshakes from
one address were all held. The handler (handler.py) applies them, under pserve and gunicorn
alike: pserve reads them from `[server:main]`, gunicorn's workers from `STACKQ_<NAME>` in the
environment (runner.py's `connection_limits`).

Imports nothing that imports ``ssl`` (gunicorn imports this before its workers patch).
"""

import collections
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ConnectionLimits:
    # Seconds a connection may wait, open, for the first byte of a request (a new one, or
    # the next on a keep-alive connection); browsers open a new one when it is closed.
    idle_timeout: float = 30.0
    # Seconds from a request's first byte to the end of its headers.
    header_timeout: float = 10.0
    # Seconds to receive a whole body (64 KB at most: stackq/web/limits.py).
    body_timeout: float = 10.0
    # Connections one remote address may hold open at once; 0: no cap (behind a proxy,
    # every connection comes from the proxy's address).
    client_connections: int = 100


# Each limit: how its text is read, and the least value it may have.
CHECKS = {"idle_timeout": (float, 0.01), "header_timeout": (float, 0.01),
          "body_timeout": (float, 0.01), "client_connections": (int, 0)}
LIMIT_NAMES = tuple(field.name for field in fields(ConnectionLimits))


class RequestTimeout(OSError):
    """A client took longer than its limit to send a request line, headers or a body.

    An OSError: wherever pywsgi meets it, it takes it for a client that left."""


class ClientConnections:
    """How many connections each remote address holds open, and whether one more may."""

    def __init__(self, cap):
        self.cap = cap  # 0: no cap
        self.open = collections.Counter()

    def enter(self, address):
        """Count a new connection from `address`; False (not counted) past the cap. A
        connection with no address (a Unix socket) is never refused."""
        if self.cap and address and self.open[address] >= self.cap:
            return False
        self.open[address] += 1
        return True

    def leave(self, address):
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


def remote_host(client_address):
    """The address part of pywsgi's `client_address` ('' for a Unix socket)."""
    return client_address[0] if isinstance(client_address, tuple) else ""


def connection_limits(server):
    """The server's `ConnectionLimits` (set by runner.py or gunicorn.py; the defaults if not)."""
    limits = getattr(server, "connection_limits", None)
    if limits is None:
        limits = server.connection_limits = ConnectionLimits()
    return limits


def client_connections(server):
    """The server's count of open connections per address, made on first use."""
    counter = getattr(server, "open_per_client", None)
    if counter is None:
        counter = server.open_per_client = ClientConnections(
            connection_limits(server).client_connections)
    return counter


def raw_answer(status, message):
    """A whole HTTP answer that closes the connection, for a client turned away before any
    request of its could be read (pywsgi writes these bytes as they are)."""
    body = message.encode("utf-8") + b"\n"
    return (f"HTTP/1.1 {status}\r\nConnection: close\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode("latin-1") + body


TOO_MANY_CONNECTIONS = raw_answer("503 Service Unavailable",
                                  "Too many connections from this address at once.")
HEADERS_TOO_SLOW = raw_answer("408 Request Timeout", "The request took too long to arrive.")

"""The WebSocket-aware request handler that `pserve` (runner.py) and stackq's gunicorn
worker share: the admission gate around the app, a body read before it, WebSocket checks.

Imports nothing that imports ``ssl`` (gunicorn imports this before its workers patch);
the app's own modules are imported in the handler, once the process is patched.
"""

import base64
import contextlib
import logging
import socket

import gevent
import gevent.pool
import gevent.pywsgi
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import Stream

from ..infra.registry import QUICK_REQUEST, SERVE_LATER
from .admission import AdmissionGate
from .answers import answering, plain_answer
from .bodies import CLIENT_LEFT, read_body_first
from .connections import (
    HEADERS_TOO_SLOW,
    TOO_MANY_CONNECTIONS,
    RequestTimeout,
    client_connections,
    connection_limits,
    remote_host,
)
from .frames import BoundedWebSocket
from .sockets import HandedOverSocket

log = logging.getLogger(__name__)
websocket_log = logging.getLogger("geventwebsocket")


WEBSOCKET_VERSION = "13"  # RFC 6455; 7 and 8 were drafts no browser speaks now


def is_websocket_handshake(environ):
    """Whether geventwebsocket takes this request as a handshake (the app is then not
    called as for a plain request): the same test as its ``upgrade_websocket``."""
    return (environ.get("REQUEST_METHOD") == "GET"
            and environ.get("HTTP_UPGRADE", "").lower() == "websocket"
            and "upgrade" in environ.get("HTTP_CONNECTION", "").lower())


def is_quick_request(application, environ):
    """Whether the app says it answers this request without waiting on anything (a static
    file, a page its response cache answered just before: `stackq.server.priority`); such requests
    are let in ahead of the others."""
    registry = getattr(application, "registry", None)
    quick = registry.get(QUICK_REQUEST) if isinstance(registry, dict) else None
    return quick is not None and quick(environ)


def access_log_on(server_log):
    """Whether pywsgi's log (a logger, wrapped by pywsgi, or a file) writes an access line."""
    enabled = getattr(server_log, "isEnabledFor", None)
    return enabled is None or enabled(logging.INFO)


def admitted(app, gate, quick):
    """`app` called with a slot at `gate` held (in its quick line if `quick`)."""
    def call(environ, start_response):
        with gate.admitted(quick):
            return app(environ, start_response)

    return call


def admission_gate(server):
    """The server's gate (`stackq.server.admission`), a default one made on first use."""
    gate = getattr(server, "admission", None)
    if gate is None:
        gate = server.admission = AdmissionGate()
    return gate


def is_valid_websocket_key(key):
    """RFC 6455 4.2.1: the key is base64 of exactly 16 bytes."""
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except ValueError:  # binascii.Error, or non-ASCII characters
        return False


class StackqWebSocketHandler(HandedOverSocket, WebSocketHandler):
    """geventwebsocket's handler with clear refusals, an access log and admission control.

    Every plain HTTP request waits at the server's `AdmissionGate` (`admission_gate`) for
    one of a few slots in the app, so under load a request that waits on PostgreSQL or Redis
    is not behind every busy connection at each of its waits (stackq/server/admission.py); the
    ones the app says are quick (`is_quick_request`) are let in first. A body is read
    whole before the gate (stackq/server/bodies.py), within its deadline, and the answer
    written after it, so a slow client holds no slot; a body too large or too slow is
    refused here, the app never called.
    WebSocket handshakes do not: an open WebSocket is one request for its whole life. The
    app may hand the upgraded socket back (`SERVE_LATER` in the environ): it is then served
    once the app has returned, outside its call stack (`serve_websocket`).

    Each connection is bounded (stackq/server/connections.py): one address holds so many at
    once, a connection waits so long for a request to start, its headers and body take so
    long to arrive; a WebSocket reads so much (stackq/server/frames.py).

    Every handshake stackq will not take gets a plain HTTP answer before any upgrade:
    geventwebsocket decodes ``Sec-WebSocket-Key`` with a bare ``b64decode`` and only catches
    ``TypeError`` (a malformed key was a 500), answers an unsupported version with a body it
    cannot write (no answer at all), and upgrades any path from any origin. It also routes
    its access log to a logger whose handler drops everything unless ``debug`` is set.
    """

    plain_request = True  # not a WebSocket handshake: set for each request
    websocket_session = None  # what serves the upgraded socket once the app has returned
    refusal = None  # why this request's body was refused (bodies.py), if it was
    headers_due = None  # the gevent.Timeout of the request's headers while they arrive

    def handle(self):
        address = remote_host(self.client_address)
        clients = client_connections(self.server)
        if not clients.enter(address):
            return self.refuse_connection(address)
        # Without TCP_NODELAY a keep-alive client waits ~40 ms for every
        # response (Nagle's algorithm meeting the client's delayed ACK).
        with contextlib.suppress(OSError):
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            return super().handle()
        except (BrokenPipeError, ConnectionResetError):
            # The client left while an answer (often an error page) was being written:
            # nothing to tell anyone, and no traceback for the log.
            self.close_connection = True
        finally:
            clients.leave(address)

    def refuse_connection(self, address):
        """Past the per-client cap: 503 and closed, nothing read, no greenlet kept."""
        log.info("refused a connection from %s: %d open already", address,
                 client_connections(self.server).cap)
        with contextlib.suppress(OSError):
            self.socket.sendall(TOO_MANY_CONNECTIONS)
            self.socket.shutdown(socket.SHUT_WR)
        self.socket.close()

    def read_requestline(self):
        # The first byte within the idle timeout (else closed, as browsers expect of an
        # idle keep-alive connection), then the request line and headers within theirs.
        limits = connection_limits(self.server)
        try:
            with gevent.Timeout(limits.idle_timeout, RequestTimeout):
                if not self.rfile.peek(1):
                    return ""  # the client closed it
        except RequestTimeout:
            return ""
        self.headers_due = gevent.Timeout.start_new(limits.header_timeout, RequestTimeout)
        return super().read_requestline()

    def stop_header_clock(self):
        if self.headers_due is not None:
            self.headers_due.cancel()
            self.headers_due = None

    def _handle_client_error(self, ex):
        # pywsgi's hook for a request it could not read: headers too slow are a 408.
        if isinstance(ex, RequestTimeout):
            log.info("headers from %s took too long", remote_host(self.client_address))
            return "408", HEADERS_TOO_SLOW
        return super()._handle_client_error(ex)

    def handle_one_request(self):
        try:
            result = super().handle_one_request()
        finally:
            self.stop_header_clock()  # a request line refused before its headers were read
        if self.websocket_session is not None:
            self.serve_websocket()
            return None  # the connection ends with its socket
        if result is True:
            # Next request on this keep-alive connection: let the others (and new
            # connections) have a turn first. A client whose next request is already in the
            # socket would otherwise be served again and again without the greenlet ever
            # switching, while the rest waited: p99 at 200 connections went from 1.5 s to
            # 0.13 s with this (benchmarks/tail_latency.py).
            gevent.sleep(0)
        return result

    def handle_one_response(self):
        self.plain_request = not is_websocket_handshake(self.environ)
        self.refusal = None
        if self.plain_request:
            self.refusal = read_body_first(self.environ,
                                           connection_limits(self.server).body_timeout)
        if self.refusal is not None:
            self.close_connection = True
            # Nothing more of it is read (pywsgi would read a body to its end).
            self.wsgi_input = gevent.pywsgi.Input(self.rfile, 0)
            if self.refusal is CLIENT_LEFT:
                return None
            log.info("refused a request body from %s: %s", remote_host(self.client_address),
                     self.refusal[0])
        return super().handle_one_response()

    def run_application(self):
        if not self.plain_request:
            return super().run_application()
        # A plain request: the app called with a slot at the gate, then pywsgi writes the
        # answer (a slow reader, a large report, keeps no slot meanwhile); straight to
        # pywsgi's, past geventwebsocket's upgrade checks and their debug lines, none of
        # which can apply to it.
        app = self.application
        if self.refusal is not None:
            self.application = answering(*self.refusal)  # not the app: no slot needed
        else:
            self.application = admitted(app, admission_gate(self.server),
                                        is_quick_request(app, self.environ))
        try:
            return gevent.pywsgi.WSGIHandler.run_application(self)
        finally:
            self.application = app

    def read_request(self, raw_requestline):
        try:
            ok = super().read_request(raw_requestline)
        finally:
            self.stop_header_clock()
        # Two lengths: which one a proxy in front went by is unknown (request smuggling).
        if len(self.headers.get_all("Content-Length") or ()) > 1:
            raise ValueError("two Content-Length headers")
        return ok

    def upgrade_websocket(self):
        result = super().upgrade_websocket()
        # geventwebsocket's own refusals (no version, HTTP/1.0) are str, which pywsgi
        # cannot write: the client would get no answer at all.
        if result and not hasattr(self, "websocket"):
            result = [part.encode() if isinstance(part, str) else part for part in result]
        return result

    def upgrade_connection(self):
        # Runs before the app is called, for any path.
        version = self.environ.get("HTTP_SEC_WEBSOCKET_VERSION", "").strip()
        if version != WEBSOCKET_VERSION:
            return self.refuse("426 Upgrade Required", "stackq speaks WebSocket version 13",
                               [("Sec-WebSocket-Version", WEBSOCKET_VERSION)])
        key = self.environ.get("HTTP_SEC_WEBSOCKET_KEY", "").strip()
        if key and not is_valid_websocket_key(key):
            return self.refuse("400 Bad Request", "Invalid Sec-WebSocket-Key")
        refusal = self.app_refusal()
        if refusal is not None:
            return self.refuse(*refusal)
        result = super().upgrade_connection()
        if hasattr(self, "websocket"):
            # geventwebsocket's WebSocket reads any frame whole, however long: ours instead.
            # The one it made is marked closed, so that dropping it sends no close frame.
            self.websocket.closed = True
            self.websocket = BoundedWebSocket(self.environ, Stream(self), self)
            self.environ["wsgi.websocket"] = self.websocket
            self.environ[SERVE_LATER] = self.serve_later
        return result

    def app_refusal(self):
        """What the app says of this handshake (path, Origin), if it is stackq's app."""
        registry = getattr(self.application, "registry", None)
        if registry is None:
            return None  # another app: its own checks apply after the upgrade
        from ..notify.websocket import handshake_refusal

        return handshake_refusal(self.environ, registry)

    def refuse(self, status, message, headers=()):
        self.logger.warning("refused a WebSocket handshake for %r (Origin %r): %s",
                            self.environ.get("PATH_INFO"), self.environ.get("HTTP_ORIGIN"),
                            message)
        self.close_connection = True
        return plain_answer(self.start_response, status, message, headers)

    @property
    def logger(self):
        # The parent's property reconfigures the "geventwebsocket.handler"
        # logger so it is silent; use a plain one that logging config controls.
        return websocket_log

    def log_request(self):
        # pywsgi's version (to server.log), including the 101 of a WebSocket (as it opens,
        # served by `serve_websocket`; when it closes, served by the app), which the parent
        # skips. Not even formatted when the access log is off (a tenth of a cached hit).
        if access_log_on(self.server.log):
            gevent.pywsgi.WSGIHandler.log_request(self)

"""The HTTP server: the paste server runner behind ``use = egg:stackq#gevent``, and the
WebSocket-aware request handler it shares with stackq's gunicorn worker.

Imports nothing that imports ``ssl`` (gunicorn imports this before its workers patch);
the app's own modules are imported in the handler, once the process is patched.
"""

import base64
import contextlib
import io
import logging
import signal
import socket
import sys

import gevent
import gevent.pool
import gevent.pywsgi
from geventwebsocket.handler import WebSocketHandler

from ..infra.gevent_repair import patch_for_gevent
from ..infra.registry import QUICK_REQUEST
from ..web.limits import MAX_BODY
from .admission import DEFAULT_LONGEST_WAIT, DEFAULT_SIZE, AdmissionGate

log = logging.getLogger(__name__)
access_log = logging.getLogger("stackq.access")
websocket_log = logging.getLogger("geventwebsocket")

DEFAULT_PORT = 6543
# Enough for in-flight requests to finish; open WebSockets are then killed.
DEFAULT_STOP_TIMEOUT = 5.0
# gevent's default is 128; browsers reconnecting their WebSockets all at once
# after a restart overflow that (the kernel caps it at somaxconn anyway).
DEFAULT_BACKLOG = 1024


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


class StackqWebSocketHandler(WebSocketHandler):
    """geventwebsocket's handler with clear refusals, an access log and admission control.

    Every plain HTTP request waits at the server's `AdmissionGate` (`admission_gate`) for
    one of a few slots in the app, so under load a request that waits on PostgreSQL or Redis
    is not behind every busy connection at each of its waits (stackq/admission.py); the
    ones the app says are quick (`is_quick_request`) are let in first. A small body is read
    whole before the gate (`read_body_first`) and the answer written after it, so a slow
    client holds no slot.
    WebSocket handshakes do not: an open WebSocket is one request for its whole life.

    Every handshake stackq will not take gets a plain HTTP answer before any upgrade:
    geventwebsocket decodes ``Sec-WebSocket-Key`` with a bare ``b64decode`` and only catches
    ``TypeError`` (a malformed key was a 500), answers an unsupported version with a body it
    cannot write (no answer at all), and upgrades any path from any origin. It also routes
    its access log to a logger whose handler drops everything unless ``debug`` is set.
    """

    plain_request = True  # not a WebSocket handshake: set for each request

    def handle(self):
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

    def handle_one_request(self):
        result = super().handle_one_request()
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
        if self.plain_request and not self.read_body_first():
            self.close_connection = True  # the client left before its body all came
            return None
        return super().handle_one_response()

    def read_body_first(self):
        """Read a body the app takes (`MAX_BODY` at most, with a Content-Length) whole,
        before the gate: a client sending it slowly then waits outside, holding no slot
        (16 such clients would otherwise hold every slot of a worker). False if the
        client left first. A bigger body is the app's to refuse unread (413)."""
        length = self.environ.get("CONTENT_LENGTH") or ""
        if (not length.isdigit() or not 0 < int(length) <= MAX_BODY
                or "HTTP_TRANSFER_ENCODING" in self.environ):
            return True  # none, too big, or chunked: left as it is
        try:
            body = self.environ["wsgi.input"].read(int(length))
        except OSError:  # cut short (pywsgi's "unexpected end of file"), or reset
            return False
        self.environ["wsgi.input"] = io.BytesIO(body)
        return True

    def run_application(self):
        if not self.plain_request:
            return super().run_application()
        # A plain request: the app called with a slot at the gate, then pywsgi writes the
        # answer (a slow reader, a large report, keeps no slot meanwhile); straight to
        # pywsgi's, past geventwebsocket's upgrade checks and their debug lines, none of
        # which can apply to it.
        app = self.application
        self.application = admitted(app, admission_gate(self.server),
                                    is_quick_request(app, self.environ))
        try:
            return gevent.pywsgi.WSGIHandler.run_application(self)
        finally:
            self.application = app

    def read_request(self, raw_requestline):
        ok = super().read_request(raw_requestline)
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
        return super().upgrade_connection()

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
        self.start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                                     *headers])
        return [message.encode("utf-8") + b"\n"]

    @property
    def logger(self):
        # The parent's property reconfigures the "geventwebsocket.handler"
        # logger so it is silent; use a plain one that logging config controls.
        return websocket_log

    def log_request(self):
        # pywsgi's version (to server.log), including the 101 of a WebSocket
        # when it closes, which the parent skips.
        gevent.pywsgi.WSGIHandler.log_request(self)


def make_server(app, host, port, backlog=DEFAULT_BACKLOG, admission=None):
    """A pywsgi server for ``app`` with WebSocket support, our access log and ``admission``
    (an `AdmissionGate`, the default one unless given)."""
    server = gevent.pywsgi.WSGIServer(
        (host, port),
        app,
        backlog=backlog,
        # A pool (unbounded) lets stop() wait for in-flight requests.
        spawn=gevent.pool.Pool(),
        handler_class=StackqWebSocketHandler,
        log=access_log,
        error_log=logging.getLogger("stackq.server.errors"),
    )
    server.admission = admission or AdmissionGate()
    return server


def _announce(message):
    # pserve configured logging from the ini if it has a [loggers] section;
    # without one an INFO line would vanish, and this one matters to users.
    if log.isEnabledFor(logging.INFO) and log.hasHandlers():
        log.info(message)
    else:
        print(message, file=sys.stderr, flush=True)


def server_factory(global_conf, host="localhost", port=None, **kw):
    """paste.server_factory: pserve calls this BEFORE it loads the app.

    Patching here means the app is built on gevent's threading, so the locks,
    thread-locals and pools main() creates are greenlet-aware from the start.
    """
    patch_for_gevent()
    options = server_options(kw)  # a bad value stops pserve here, before the app loads
    return lambda wsgi_app: serve(wsgi_app, global_conf, host, port, **options)


def server_setting(kw, name, parse, default, least, where="[server:main] "):
    """`[server:main]`'s `name` taken from `kw`, `parse`d and at least `least`, else
    `default`: a bad value stops pserve with one line naming it (`where` it was set), as
    the app's settings do."""
    text = kw.pop(name, None)
    if text is None:
        return default
    try:
        value = parse(text)
    except ValueError:
        value = None
    if value is None or not value >= least:  # `not >=`: NaN is refused too
        raise SystemExit(f"stackq: {where}{name} = {text!r}: a number from {least}")
    return value


def admission_settings(kw, size_name="admission_size",
                       longest_wait_name="admission_longest_wait", where="[server:main] "):
    """The `AdmissionGate`'s size and longest wait (seconds) taken from `kw`, checked as
    `server_setting` does, the defaults where unset: pserve's `[server:main]` keys, or the
    environment variables of gunicorn's workers (stackq/gunicorn.py)."""
    return (server_setting(kw, size_name, int, DEFAULT_SIZE, 1, where),
            server_setting(kw, longest_wait_name, float, DEFAULT_LONGEST_WAIT, 0, where))


def server_options(kw):
    """[server:main]'s own keys, checked, with their defaults; unknown ones are warned of."""
    kw = dict(kw)
    options = {
        "stop_timeout": server_setting(kw, "stop_timeout", float, DEFAULT_STOP_TIMEOUT, 0),
        "backlog": server_setting(kw, "backlog", int, DEFAULT_BACKLOG, 1),
    }
    options["admission_size"], options["admission_longest_wait"] = admission_settings(kw)
    if kw:
        log.warning("ignoring unknown [server] settings: %s", ", ".join(sorted(kw)))
    return options


def serve(wsgi_app, global_conf, host, port, *, stop_timeout, backlog, admission_size,
          admission_longest_wait):
    """Patch for gevent, then serve until SIGTERM/SIGINT (`server_factory`'s runner, with
    `server_options`' checked values).

    The port is the ``port`` of ``[server:main]``, else ``http_port`` from
    the command line (``pserve development.ini http_port=8080``), else 6543.
    The address is ``host`` from the command line, else ``[server:main]``'s.
    ``admission_size`` and ``admission_longest_wait`` (seconds) set the `AdmissionGate`
    (tests and benchmarks set them; the defaults are what benchmarks/load.py chose).
    """
    patch_for_gevent()
    admission = AdmissionGate(admission_size, admission_longest_wait)
    if port is None:
        port = global_conf.get("http_port") or DEFAULT_PORT
    # `pserve development.ini host=0.0.0.0` wins over [server:main]'s `host`.
    host = global_conf.get("host") or host
    server = make_server(wsgi_app, host, int(port), backlog=backlog, admission=admission)
    server.start()
    # Closing the listener ends serve_forever, whose stop() then gives
    # in-flight requests stop_timeout seconds; pserve then exits with 0.
    handlers = [
        gevent.signal_handler(signum, server.close) for signum in (signal.SIGTERM, signal.SIGINT)
    ]
    _announce(f"serving on http://{host}:{server.address[1]}")
    try:
        server.serve_forever(stop_timeout=stop_timeout)
    finally:
        for handler in handlers:
            handler.cancel()

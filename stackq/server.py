"""The paste server runner behind ``use = egg:stackq#gevent``.

``pserve`` imports pyramid and loads the app *before* it calls a server
runner, so monkey-patching here is late: pyramid's thread-local manager
already exists as a real ``threading.local``, which every greenlet of the one
OS thread shares. ``patch_for_gevent()`` repairs that (see DESIGN.md,
"Facts verified on these machines"); the pieces are separate functions so a
gunicorn config (``post_fork``/``post_worker_init``) can reuse them.
"""

import base64
import contextlib
import logging
import signal
import socket
import sys
import warnings

import gevent
import gevent.local
import gevent.monkey
import gevent.pool
import gevent.pywsgi
from geventwebsocket.handler import WebSocketHandler

log = logging.getLogger(__name__)
access_log = logging.getLogger("stackq.access")

DEFAULT_PORT = 6543
# Enough for in-flight requests to finish; open WebSockets are then killed.
DEFAULT_STOP_TIMEOUT = 5.0
# gevent's default is 128; browsers reconnecting their WebSockets all at once
# after a restart overflow that (the kernel caps it at somaxconn anyway).
DEFAULT_BACKLOG = 1024


class GreenletLocalManager(gevent.local.local):
    """pyramid.threadlocal.ThreadLocalManager, but one stack per greenlet.

    A copy rather than a subclass: ThreadLocalManager's base is the C
    ``_thread._local`` captured before patching, which cannot be mixed with
    ``gevent.local.local``. gevent re-runs ``__init__`` (with the same
    arguments) the first time each greenlet touches the instance.
    """

    def __init__(self, default=None):
        self.stack = []
        self.default = default

    def push(self, info):
        self.stack.append(info)

    set = push  # pyramid keeps this alias for backwards compatibility

    def pop(self):
        if self.stack:
            return self.stack.pop()

    def get(self):
        try:
            return self.stack[-1]
        except IndexError:
            return self.default()

    def clear(self):
        self.stack[:] = []


def swap_threadlocal_manager():
    """Replace pyramid's manager everywhere a reference to it is held.

    ``pyramid.view``, ``pyramid.config`` and ``pyramid.testing`` did
    ``from pyramid.threadlocal import manager`` and ``Configurator`` copies it
    into a class attribute, so rebinding ``pyramid.threadlocal.manager`` alone
    is not enough. Scanning ``sys.modules`` also catches any third-party module
    that imported it the same way. Returns the names swapped (for logging and
    tests); safe to call twice.
    """
    import pyramid.threadlocal
    from pyramid.config import Configurator

    old = pyramid.threadlocal.manager
    if isinstance(old, GreenletLocalManager):
        return []
    new = GreenletLocalManager(default=old.default)
    swapped = []
    for name, module in list(sys.modules.items()):
        # Lazy/odd module objects can raise on attribute access: skip them.
        try:
            holds_old = vars(module).get("manager") is old
        except TypeError:
            continue
        if holds_old:
            module.manager = new
            swapped.append(name)
    if Configurator.__dict__.get("manager") is old:
        Configurator.manager = new
        swapped.append("pyramid.config.Configurator.manager")
    return sorted(swapped)


# Names gevent replaces in these modules, which code imported before patching
# may still hold: ``from ssl import SSLContext`` (urllib3, redis) makes every
# HTTPS request die with RecursionError (gevent issue #1016), and
# ``from time import sleep`` (redis.retry) blocks all greenlets.
REBIND_MODULES = ("ssl", "time", "socket")


def rebind_early_imports():
    """Point early ``from ssl/time/socket import X`` copies at gevent's X.

    That is what those modules would hold had patching come first. Only
    classes and functions are rebound (a saved ``True`` is not a copy), and
    gevent's own modules, the patched modules and C modules (``_socket``,
    ``_ssl``) keep their originals, which gevent relies on. Returns
    ``module.name`` strings rebound.
    """
    replacements = {}
    for module_name in REBIND_MODULES:
        patched_module = sys.modules.get(module_name)
        for name, original in gevent.monkey.saved.get(module_name, {}).items():
            if not callable(original):
                continue
            patched = getattr(patched_module, name, original)
            if patched is not original:
                replacements[id(original)] = (original, patched)
    skip = set(gevent.monkey.saved)
    rebound = []
    for mod_name, module in list(sys.modules.items()):
        if mod_name in skip or mod_name.startswith(("gevent", "_")):
            continue
        try:
            namespace = vars(module)
        except TypeError:
            continue
        for attr, value in list(namespace.items()):
            hit = replacements.get(id(value))
            if hit is not None and hit[0] is value:
                setattr(module, attr, hit[1])
                rebound.append(f"{mod_name}.{attr}")
    return rebound


def patch_psycopg():
    """Make psycopg2 wait through gevent instead of blocking the process."""
    try:
        from psycogreen.gevent import patch_psycopg as _patch
    except ImportError:  # psycopg2 not installed: nothing would block
        return False
    _patch()
    return True


def patch_for_gevent():
    """Everything a process needs before serving pyramid under gevent."""
    with warnings.catch_warnings():
        # gevent warns that ssl was imported before patching: true under
        # pserve, and rebind_early_imports() repairs what it warns about.
        warnings.filterwarnings(
            "ignore",
            message="Monkey-patching ssl after ssl has already been imported",
            category=gevent.monkey.MonkeyPatchWarning,
        )
        gevent.monkey.patch_all()
    rebound = rebind_early_imports()
    swapped = swap_threadlocal_manager()
    patch_psycopg()
    log.debug("rebound to gevent: %s", ", ".join(rebound) or "nothing")
    log.debug("greenlet-local pyramid manager in: %s", ", ".join(swapped))
    return swapped


def is_valid_websocket_key(key):
    """RFC 6455 4.2.1: the key is base64 of exactly 16 bytes."""
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except ValueError:  # binascii.Error, or non-ASCII characters
        return False


class StackqWebSocketHandler(WebSocketHandler):
    """geventwebsocket's handler with a client error and an access log.

    geventwebsocket decodes ``Sec-WebSocket-Key`` with a bare ``b64decode``
    and only catches ``TypeError``, so a malformed key raises
    ``binascii.Error`` and becomes a 500. It also routes its access log to a
    logger whose handler drops everything unless ``debug`` is set.
    """

    def handle(self):
        # Without TCP_NODELAY a keep-alive client waits ~40 ms for every
        # response (Nagle's algorithm meeting the client's delayed ACK).
        with contextlib.suppress(OSError):
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().handle()

    def upgrade_connection(self):
        # Runs before the app is called, for any path: reject bad keys here.
        key = self.environ.get("HTTP_SEC_WEBSOCKET_KEY", "").strip()
        if key and not is_valid_websocket_key(key):
            self.logger.warning("Invalid Sec-WebSocket-Key: %r", key[:64])
            self.start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Invalid Sec-WebSocket-Key\n"]
        return super().upgrade_connection()

    @property
    def logger(self):
        # The parent's property reconfigures the "geventwebsocket.handler"
        # logger so it is silent; use a plain one that logging config controls.
        return logging.getLogger("geventwebsocket")

    def log_request(self):
        # pywsgi's version (to server.log), including the 101 of a WebSocket
        # when it closes, which the parent skips.
        gevent.pywsgi.WSGIHandler.log_request(self)


def make_server(app, host, port, backlog=DEFAULT_BACKLOG):
    """A pywsgi server for ``app`` with WebSocket support and our access log."""
    return gevent.pywsgi.WSGIServer(
        (host, port),
        app,
        backlog=backlog,
        # A pool (unbounded) lets stop() wait for in-flight requests.
        spawn=gevent.pool.Pool(),
        handler_class=StackqWebSocketHandler,
        log=access_log,
        error_log=logging.getLogger("stackq.server.errors"),
    )


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
    return lambda wsgi_app: serve(wsgi_app, global_conf, host, port, **kw)


def serve(wsgi_app, global_conf, host="localhost", port=None, **kw):
    """paste.server_runner: patch for gevent, then serve until SIGTERM/SIGINT.

    The port is the ``port`` of ``[server:main]``, else ``http_port`` from
    the command line (``pserve development.ini http_port=8080``), else 6543.
    The address is ``host`` from the command line, else ``[server:main]``'s.
    """
    patch_for_gevent()
    stop_timeout = float(kw.pop("stop_timeout", DEFAULT_STOP_TIMEOUT))
    backlog = int(kw.pop("backlog", DEFAULT_BACKLOG))
    if kw:
        log.warning("ignoring unknown [server] settings: %s", ", ".join(sorted(kw)))
    if port is None:
        port = global_conf.get("http_port") or DEFAULT_PORT
    # `pserve development.ini host=0.0.0.0` wins over [server:main]'s `host`.
    host = global_conf.get("host") or host
    server = make_server(wsgi_app, host, int(port), backlog=backlog)
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

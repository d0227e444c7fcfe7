"""The paste server runner behind ``use = egg:stackq#gevent``: a pywsgi server with the
WebSocket-aware handler (handler.py), started once the process is patched for gevent.

Imports nothing that imports ``ssl`` (pserve imports this before it loads the app).
"""


import logging
import signal
import sys

import gevent
import gevent.pool
import gevent.pywsgi

from ..infra.gevent_repair import patch_for_gevent
from .admission import DEFAULT_LONGEST_WAIT, DEFAULT_SIZE, AdmissionGate
from .connections import CHECKS, LIMIT_NAMES, ConnectionLimits
from .handler import StackqWebSocketHandler

log = logging.getLogger(__name__)
access_log = logging.getLogger("stackq.access")

DEFAULT_PORT = 6543
# Enough for in-flight requests to finish; open WebSockets are then killed.
DEFAULT_STOP_TIMEOUT = 5.0
# gevent's default is 128; browsers reconnecting their WebSockets all at once
# after a restart overflow that (the kernel caps it at somaxconn anyway).
DEFAULT_BACKLOG = 1024


def make_server(app, host, port, backlog=DEFAULT_BACKLOG, admission=None, limits=None):
    """A pywsgi server for ``app`` with WebSocket support, our access log, ``admission``
    (an `AdmissionGate`) and ``limits`` (`ConnectionLimits`), the defaults unless given."""
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
    server.connection_limits = limits or ConnectionLimits()
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
    environment variables of gunicorn's workers (stackq/server/gunicorn.py)."""
    return (server_setting(kw, size_name, int, DEFAULT_SIZE, 1, where),
            server_setting(kw, longest_wait_name, float, DEFAULT_LONGEST_WAIT, 0, where))


def connection_limits(kw, name=str, where="[server:main] "):
    """`ConnectionLimits` taken from `kw`, each limit under `name(limit)`, checked as
    `server_setting` does, the defaults where unset: pserve's `[server:main]` keys, or
    `STACKQ_<NAME>` in the environment of gunicorn's workers."""
    defaults = ConnectionLimits()
    return ConnectionLimits(**{
        limit: server_setting(kw, name(limit), CHECKS[limit][0], getattr(defaults, limit),
                              CHECKS[limit][1], where)
        for limit in LIMIT_NAMES})


def server_options(kw):
    """[server:main]'s own keys, checked, with their defaults; unknown ones are warned of."""
    kw = dict(kw)
    options = {
        "stop_timeout": server_setting(kw, "stop_timeout", float, DEFAULT_STOP_TIMEOUT, 0),
        "backlog": server_setting(kw, "backlog", int, DEFAULT_BACKLOG, 1),
    }
    options["admission_size"], options["admission_longest_wait"] = admission_settings(kw)
    options["limits"] = connection_limits(kw)
    if kw:
        log.warning("ignoring unknown [server] settings: %s", ", ".join(sorted(kw)))
    return options


def serve(wsgi_app, global_conf, host, port, *, stop_timeout, backlog, admission_size,
          admission_longest_wait, limits):
    """Patch for gevent, then serve until SIGTERM/SIGINT (`server_factory`'s runner, with
    `server_options`' checked values).

    The port is the ``port`` of ``[server:main]``, else ``http_port`` from
    the command line (``pserve development.ini http_port=8080``), else 6543.
    The address is ``host`` from the command line, else ``[server:main]``'s.
    ``admission_size`` and ``admission_longest_wait`` (seconds) set the `AdmissionGate`
    (tests and benchmarks set them; the defaults are what benchmarks/load.py chose);
    ``limits`` (`ConnectionLimits`) bound what one connection may cost.
    """
    patch_for_gevent()
    admission = AdmissionGate(admission_size, admission_longest_wait)
    if port is None:
        port = global_conf.get("http_port") or DEFAULT_PORT
    # `pserve development.ini host=0.0.0.0` wins over [server:main]'s `host`.
    host = global_conf.get("host") or host
    server = make_server(wsgi_app, host, int(port), backlog=backlog, admission=admission,
                         limits=limits)
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

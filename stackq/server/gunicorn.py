"""gunicorn's gevent WebSocket worker, with stackq's handler and a prompt shutdown.

    gunicorn --paste production.ini --worker-class stackq.server.gunicorn.WebSocketWorker ...

Against geventwebsocket's own worker this adds: malformed `Sec-WebSocket-Key` answered 400
(not 500), gunicorn's access log for every request when it has a handler (that worker
writes none), admission control (a few plain requests in the app at once, the others let in
first come, first served: `stackq.server.admission`, one gate per worker, its numbers from
`STACKQ_ADMISSION_SIZE` and `STACKQ_ADMISSION_LONGEST_WAIT`), the connection limits
(`stackq.server.connections`, from `STACKQ_IDLE_TIMEOUT` and the like), every waiting connection
accepted at once (see `AcceptingServer`),
`threading.Condition` kept from yielding with its lock held
(`gevent_repair.notify_without_yield`), and open WebSockets closed with 1001 as soon as
the worker is told to stop; otherwise every connected browser would hold the worker for the
whole graceful timeout (30 s by default).
"""

import functools
import logging
import os
import sys

import gevent
import gevent.baseserver
from geventwebsocket.gunicorn.workers import GeventWebSocketWorker
from gunicorn.arbiter import Arbiter
from gunicorn.workers.ggevent import PyWSGIHandler, PyWSGIServer

from ..infra.gevent_repair import notify_without_yield
from ..infra.settings import refusal

# gunicorn imports this module before its workers patch: nothing imported here may import
# ssl's names (gevent then warns, and such copies break TLS under gevent).
from .admission import AdmissionGate
from .handler import StackqWebSocketHandler
from .runner import admission_settings, connection_limits


def close_all_sockets():
    from ..notify.hub import close_all_sockets

    close_all_sockets()


class GunicornWebSocketHandler(StackqWebSocketHandler):
    def log_request(self):
        # A request too broken to parse has no environ, which gunicorn's access log needs;
        # its error is logged already.
        if self.environ is not None and writes_access_log(self.server.log):
            PyWSGIHandler.log_request(self)

    def get_environ(self):
        # What gunicorn's own handler adds.
        environ = super().get_environ()
        environ["gunicorn.sock"] = self.socket
        environ["RAW_URI"] = self.path
        return environ


def writes_access_log(glog):
    """Whether gunicorn's access log has anywhere to write a line.

    Under `--paste` gunicorn counts the ini's logging config as an access log and builds
    every line's fields (a tenth of a worker's time under load, benchmarks/load.py) even when,
    as in production.ini, no handler takes `gunicorn.access`'s lines.
    """
    access_log = glog.access_log
    return access_log.isEnabledFor(logging.INFO) and access_log.hasHandlers()


# The admission gate's two numbers, as `pserve` takes them in [server:main].
SIZE_VARIABLE = "STACKQ_ADMISSION_SIZE"
LONGEST_WAIT_VARIABLE = "STACKQ_ADMISSION_LONGEST_WAIT"


def admission_from_environ(environ):
    """An `AdmissionGate` with `STACKQ_ADMISSION_SIZE` and `STACKQ_ADMISSION_LONGEST_WAIT`
    (seconds) from `environ`, the defaults where unset; SystemExit naming a bad value."""
    return AdmissionGate(*admission_settings(dict(environ), SIZE_VARIABLE,
                                             LONGEST_WAIT_VARIABLE, where=""))


def limits_from_environ(environ):
    """`ConnectionLimits` from `STACKQ_IDLE_TIMEOUT`, `STACKQ_HEADER_TIMEOUT`,
    `STACKQ_BODY_TIMEOUT` and `STACKQ_CLIENT_CONNECTIONS` in `environ`, the defaults where
    unset; SystemExit naming a bad value."""
    return connection_limits(dict(environ), name=lambda limit: "STACKQ_" + limit.upper(),
                             where="")


@functools.cache
def worker_admission():
    """The worker's `AdmissionGate`: every listener (``--bind``) shares it, as they share the
    worker's pool. Made on first use, which is in the worker, after the fork (and after
    gunicorn's ``--env`` is in the environment)."""
    return admission_from_environ(os.environ)


class AcceptingServer(PyWSGIServer):
    """Accepts every waiting connection (up to gevent's usual 100) per turn of the loop.

    Under more than one worker (`wsgi.multiprocess`) gevent's pywsgi accepts ONE connection
    per turn of the event loop, to leave the rest to the other workers. Under load a turn
    serves every ready keep-alive connection first and takes a long time, so new connections
    waited seconds in the listen queue: that was the p99 of 1.2 s and the requests over 2 s
    at 200 connections (benchmarks/tail_latency.py). A worker that is busier turns its loop
    more slowly and so still takes fewer of them.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.admission = worker_admission()
        self.connection_limits = limits_from_environ(os.environ)

    def set_max_accept(self):
        self.max_accept = gevent.baseserver.BaseServer.max_accept


def app_refusal(paste, environ):
    """Stop the master with main()'s one line if the app's settings would be refused: every
    worker would fail to boot, and two failing at once end in a traceback of gunicorn's."""
    import plaster

    path, _, name = paste.partition("#")
    settings = plaster.get_settings(path, f"app:{name or 'main'}")
    refused = refusal(dict(settings), os.path.dirname(os.path.abspath(path)), environ)
    if refused is not None:
        print(refused, file=sys.stderr, flush=True)
        sys.exit(Arbiter.WORKER_BOOT_ERROR)


class WebSocketWorker(GeventWebSocketWorker):
    wsgi_handler = GunicornWebSocketHandler
    server_class = AcceptingServer

    def patch(self):
        super().patch()
        notify_without_yield()

    @classmethod
    def check_config(cls, cfg, log):
        # In gunicorn's master, before any worker starts: a bad number stops it with one
        # line (workers failing to boot would each be restarted, or, two at once, end in a
        # traceback of gunicorn's own).
        environ = {**os.environ, **(cfg.env or {})}
        admission_from_environ(environ)
        limits_from_environ(environ)
        if cfg.paste:
            app_refusal(cfg.paste, environ)

    def load_wsgi(self):
        try:
            super().load_wsgi()
        except SystemExit as refused:
            # main() refused its settings (a bad value, accounts on and no secret) with one
            # line; every new worker would too. Gunicorn's boot-error code stops the master
            # instead of restarting workers forever.
            if isinstance(refused.code, str):
                print(refused.code, file=sys.stderr, flush=True)
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        # Out of the signal handler: closing sockets switches greenlets.
        gevent.spawn(close_all_sockets)

    def handle_quit(self, sig, frame):
        gevent.spawn(close_all_sockets)
        super().handle_quit(sig, frame)

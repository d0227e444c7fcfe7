"""`/ws`: who may open it (Origin), and serving one socket under gevent.

stackq's server handler refuses a bad handshake with a plain HTTP answer before upgrading;
a server that upgrades first (geventwebsocket's own handler) gets the socket closed at once
with 1008 (policy violation), having sent nothing.
"""

import logging
import signal
import struct
import sys

import gevent
from geventwebsocket.exceptions import WebSocketError
from webob import Request

from ..infra.registry import settings_of
from ..web.hosts import host_refusal
from ..web.origins import origin_allowed
from .hub import close_all_sockets
from .outbox import Outbox, keep_pinging

log = logging.getLogger(__name__)

WS_PATH = "/ws"
POLICY_VIOLATION = 1008


def handshake_refusal(environ, registry):
    """(HTTP status, reason) refusing a WebSocket handshake, or None to accept it: a Host
    not in `stackq.allowed_hosts` (stackq.web.hosts), a path other than /ws, a foreign Origin.

    stackq's server handler asks before it upgrades, so a refused page gets a plain HTTP
    answer; the tween asks again for servers that upgrade first (it then closes with 1008).
    """
    settings = settings_of(registry)
    host = host_refusal(environ, settings.allowed_hosts)
    if host is not None:
        return "400 Bad Request", host
    if environ.get("PATH_INFO") != WS_PATH:
        return "404 Not Found", f"WebSockets are served at {WS_PATH} only"
    extra = settings.ws_allowed_origins
    if not origin_allowed(environ.get("HTTP_ORIGIN"), Request(environ).host_url, extra):
        return "403 Forbidden", "origin not allowed"
    return None


def close_socket(ws, code, reason=""):
    """Send a close frame with `code` and `reason`, and mark `ws` closed.

    geventwebsocket's own close() leaves the status code out of the frame (and turns a bytes
    reason into its repr), so browsers would see a garbled code.
    """
    try:
        ws.send_frame(struct.pack("!H", code) + reason.encode("utf-8")[:120], ws.OPCODE_CLOSE)
    except (WebSocketError, OSError):
        pass  # the peer is gone already
    finally:
        ws.closed = True


def refuse(ws, reason):
    close_socket(ws, POLICY_VIOLATION, reason)


_closing_on_stop = False


def close_sockets_on_stop():
    """Under pserve's gevent runner: on SIGTERM/SIGINT close every socket at once.

    Otherwise open pages hold the server for its whole stop timeout. gevent runs every
    handler of a signal, so the runner's own still stops the server. Not under gunicorn:
    there a gevent handler would replace the worker's own, and stackq.server.gunicorn's worker
    closes the sockets itself.
    """
    global _closing_on_stop
    if _closing_on_stop or "gunicorn.workers.base" in sys.modules:
        return
    _closing_on_stop = True
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, close_all_sockets)


def serve_socket(ws, hub, ping_interval, silence_limit=None):
    """Serve `ws` until either side ends it: the hub's messages and pings go out through its
    outbox (stackq.notify.outbox: no greenlet of its own while it keeps up), and this greenlet
    reads, only to notice the client leaving (browsers send nothing else but the pong to each
    ping). The hub ends this greenlet when it drops the socket. A client silent for
    `silence_limit` seconds (twice the ping interval at least: a browser answers each ping at
    once) is closed as dead, where the server's socket can tell (stackq/server/frames.py).
    """
    if silence_limit is not None and hasattr(ws, "silence_limit"):
        ws.silence_limit = max(silence_limit, 2 * ping_interval)
    keep_pinging(hub, ping_interval)
    subscriber = hub.subscribe()
    outbox = Outbox(ws.handler.socket, subscriber)
    subscriber.writer = outbox
    reader = gevent.getcurrent()
    subscriber.on_drop = lambda: reader.kill(block=False)
    try:
        while ws.receive() is not None:
            pass  # nothing a client says is a command
    except (WebSocketError, OSError):
        pass  # the client went away
    except gevent.GreenletExit:
        # Dropped by the hub (closing set), or else the server is stopping and kills what
        # is still open.
        subscriber.closing = subscriber.closing or (1001, "server going away")
    finally:
        subscriber.on_drop = None
        hub.unsubscribe(subscriber)
        mid_frame = outbox.mid_frame
        outbox.stop()
        # No close frame in the middle of another: a client that stopped reading just loses
        # the connection. One that did not must not hold this greenlet forever either.
        if not ws.closed and not mid_frame:
            with gevent.Timeout(1, False):
                close_socket(ws, *(subscriber.closing or (1000, "")))

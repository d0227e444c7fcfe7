"""`/ws`: who may open it (Origin), and serving one socket under gevent.

geventwebsocket completes the handshake before the app runs, for any path, so refusing
means closing at once with 1008 (policy violation), having sent nothing.
"""

import logging
import queue
import signal
import struct
import sys
from urllib.parse import urlsplit

import gevent
from geventwebsocket.exceptions import WebSocketError

from .hub import close_all_sockets

log = logging.getLogger(__name__)

WS_PATH = "/ws"
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
POLICY_VIOLATION = 1008


def normalized_origin(value):
    """`HTTPS://Example.com:443/` -> `https://example.com:443`; None if it is no web origin."""
    try:
        parts = urlsplit((value or "").strip().lower())
        port = parts.port
    except ValueError:  # a port that is not a number
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.hostname}:{port or DEFAULT_PORTS[parts.scheme]}"


def allowed_origins(request, extra):
    """The app's own scheme+host+port, as this request reached it, plus `extra`."""
    return {o for o in map(normalized_origin, (request.host_url, *extra)) if o}


def origin_allowed(request, extra=()):
    """Browsers always send Origin; a client that sends none is no page of another site."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return normalized_origin(origin) in allowed_origins(request, extra)


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
    there a gevent handler would replace the worker's own, and stackq.gunicorn's worker
    closes the sockets itself.
    """
    global _closing_on_stop
    if _closing_on_stop or "gunicorn.workers.base" in sys.modules:
        return
    _closing_on_stop = True
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, close_all_sockets)


def serve_socket(ws, hub, ping_interval):
    """Send the hub's messages to `ws` until either side ends it; ping when idle.

    This greenlet sends; a second one reads, only to notice the client leaving (browsers
    send nothing else). The hub stops this greenlet when it drops the socket.
    """
    subscriber = hub.subscribe()
    sender = gevent.getcurrent()
    subscriber.on_drop = lambda: sender.kill(block=False)
    reader = gevent.spawn(read_until_closed, ws, sender)
    try:
        while True:
            try:
                message = subscriber.queue.get(timeout=ping_interval)
            except queue.Empty:
                # Keeps proxies from closing an idle connection, and finds dead peers.
                ws.send_frame(b"", ws.OPCODE_PING)
                continue
            ws.send(message)
    except (WebSocketError, OSError):
        pass  # the client went away mid-send
    except gevent.GreenletExit:
        # Dropped by the hub (closing set), or the client left (ws closed already), or else
        # the server is stopping and kills what is still open.
        subscriber.closing = subscriber.closing or (1001, "server going away")
    finally:
        subscriber.on_drop = None
        hub.unsubscribe(subscriber)
        reader.kill(block=False)
        if not ws.closed:
            # A client that stopped reading must not hold this greenlet forever.
            with gevent.Timeout(1, False):
                close_socket(ws, *(subscriber.closing or (1000, "")))


def read_until_closed(ws, sender):
    try:
        while ws.receive() is not None:
            pass  # nothing a client says is a command
    except (WebSocketError, OSError):
        pass
    sender.kill(block=False)

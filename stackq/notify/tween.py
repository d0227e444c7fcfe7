"""The `/ws` tween: an upgraded request is served here, before anything else runs."""

import functools
import logging

from pyramid.httpexceptions import HTTPBadRequest

from ..infra.registry import EVENTS, NOTIFY_HUB, SERVE_LATER, settings_of
from .websocket import WS_PATH, close_sockets_on_stop, handshake_refusal, refuse, serve_socket

log = logging.getLogger(__name__)


def websocket_tween_factory(handler, registry):
    """Serve upgraded requests before transactions and the response cache (or hand them
    back to stackq's server handler, which serves them once the app has returned).

    An upgraded connection has already answered 101, so nothing below this tween could send
    a response anyway. stackq's handler refused bad handshakes before upgrading; under
    another server a refused one is closed here with 1008.
    """
    hub = registry[NOTIFY_HUB]
    events = registry[EVENTS]
    settings = settings_of(registry)

    def websocket_tween(request):
        ws = request.environ.get("wsgi.websocket")
        if ws is None:
            return handler(request)
        refusal = handshake_refusal(request.environ, registry)
        if refusal is not None:
            log.warning("refused a WebSocket (%s) from origin %r", refusal[1],
                        request.headers.get("Origin"))
            refuse(ws, refusal[1])
            return request.response
        events.start()  # idempotent: the process's one subscriber, started on first use
        close_sockets_on_stop()
        session = functools.partial(serve_socket, ws, hub, settings.ws_ping_interval,
                                    settings.ws_silence_limit)
        serve_later = request.environ.get(SERVE_LATER)
        if serve_later is None:
            session()  # another server: served here, the whole call stack kept meanwhile
        else:
            serve_later(session)  # stackq's handler: served once this stack has unwound
        return request.response

    return websocket_tween


def plain_get(request):
    raise HTTPBadRequest(f"{WS_PATH} speaks WebSocket only: open it with a WebSocket client "
                         "(the pages of this site do so by themselves)")

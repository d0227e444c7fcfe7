"""Live notices: the per-process hub, `/ws`, and the publisher the refresher uses.

Flow: refresher commits -> `publish_query_updated` on the Redis events channel -> the one
`EventListener` of each web process -> `Hub.dispatch` -> each socket's queue -> the browser.
"""

import gc
import logging

from pyramid.events import ApplicationCreated
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.tweens import INGRESS

from .hub import Hub
from .publish import publish_query_updated, query_updated
from .websocket import WS_PATH, close_sockets_on_stop, origin_allowed, refuse, serve_socket

__all__ = ["Hub", "publish_query_updated", "query_updated"]

log = logging.getLogger(__name__)


def websocket_tween_factory(handler, registry):
    """Serve upgraded requests before anything else runs (transactions, response cache).

    An upgraded connection has already answered 101, so nothing below this tween could send
    a response anyway; an upgrade of any other path is closed unanswered.
    """
    hub = registry["stackq.notify.hub"]
    events = registry["stackq.events"]
    settings = registry.settings["stackq.settings"]

    def websocket_tween(request):
        ws = request.environ.get("wsgi.websocket")
        if ws is None:
            return handler(request)
        if request.path_info != WS_PATH:
            refuse(ws, f"WebSockets are served at {WS_PATH} only")
            return request.response
        if not origin_allowed(request, settings.ws_allowed_origins):
            log.warning("refused a WebSocket from origin %r", request.headers.get("Origin"))
            refuse(ws, "origin not allowed")
            return request.response
        events.start()  # idempotent: the process's one subscriber, started on first use
        close_sockets_on_stop()
        serve_socket(ws, hub, settings.ws_ping_interval)
        return request.response

    return websocket_tween


def plain_get(request):
    raise HTTPBadRequest(f"{WS_PATH} speaks WebSocket only: open it with a WebSocket client "
                         "(the pages of this site do so by themselves)")


def freeze_startup_objects(event):
    """In a gevent server, keep the app's own objects out of the cyclic GC's full scans.

    A full collection walks every object: with the app's startup objects (modules, mappers,
    templates) and 2,000 sockets it stalled the process for 150 ms, which a notice landing
    then waited out (benchmarks/notify.py). Objects alive once the app is built live as long
    as the process, so scanning them again and again finds nothing.
    """
    import gevent.monkey

    if gevent.monkey.is_module_patched("socket"):
        gc.collect()
        gc.freeze()


def includeme(config):
    config.add_subscriber(freeze_startup_objects, ApplicationCreated)
    hub = Hub()
    config.registry["stackq.notify.hub"] = hub
    config.registry["stackq.events"].add(hub.dispatch)
    config.add_route("ws", WS_PATH)
    config.add_view(plain_get, route_name="ws")
    config.add_tween("stackq.notify.websocket_tween_factory", under=INGRESS)

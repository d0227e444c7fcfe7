"""Live notices: the per-process hub, `/ws`, and the publisher the refresher uses.

Flow: refresher commits -> `publish_query_updated` on the Redis events channel -> the one
`EventListener` of each web process -> `Hub.dispatch` -> each socket's queue -> the browser.
"""

from ..infra.registry import EVENTS, NOTIFY_HUB
from ..web.headers import TWEENS_BELOW
from .hub import Hub
from .publish import publish_query_updated, query_updated
from .websocket import WS_PATH

__all__ = ["Hub", "publish_query_updated", "query_updated"]


def includeme(config):
    hub = Hub()
    config.registry[NOTIFY_HUB] = hub
    config.registry[EVENTS].add(hub.dispatch)
    config.add_route("ws", WS_PATH)
    config.add_view("stackq.notify.tween.plain_get", route_name="ws")
    # Under the request guard (it refuses undecodable paths), over everything that would
    # open a transaction or look in the response cache.
    config.add_tween("stackq.notify.tween.websocket_tween_factory",
                     under="stackq.web.guard.guard_tween_factory",
                     over=TWEENS_BELOW)

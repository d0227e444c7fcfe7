"""Live notices: the per-process hub, `/ws`, and the publisher of what commits queued.

Flow: a refresh or harvest queues `queue_query_updated` on its transaction -> it commits ->
`Announcer` (after-commit listener) publishes on the Redis events channel -> the one
`EventListener` of each web process -> `Hub.dispatch` -> each socket's queue -> the browser.
"""

from ..infra.registry import AFTER_COMMIT, EVENTS, NOTIFY_HUB, REDIS
from ..models.changes import TELL
from ..web.headers import TWEENS_BELOW
from .hub import Hub
from .publish import Announcer, query_updated, queue_query_updated
from .websocket import WS_PATH

__all__ = ["Hub", "query_updated", "queue_query_updated"]


def includeme(config):
    # After the cache's listener, whatever the order of the includes (models.changes.STAGES).
    config.registry[AFTER_COMMIT].add(TELL, Announcer(config.registry[REDIS]))
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

"""The response cache: full pages kept in Redis, with a short process-local layer in front.

`invalidate_searches(redis, search_ids)` is the one call other processes make
(the refresher, the harvester) after committing new results.
"""

from pyramid.tweens import INGRESS

from .. import registry
from .store import invalidate_searches
from .tween import ResponseCache

__all__ = ["invalidate_searches", "includeme"]


def includeme(config):
    settings = config.get_settings()[registry.SETTINGS]
    if settings.cache_ttl <= 0:
        return  # STACKQ_CACHE_TTL=0: no tween at all
    cache = ResponseCache(config.registry[registry.REDIS], settings)
    config.registry[registry.RESPONSE_CACHE] = cache
    events = config.registry[registry.EVENTS]
    events.add(cache.on_event)
    events.start()
    # Above pyramid_tm: it sees the committed outcome and the final response
    # (error pages included). Below the debug toolbar, which must not be cached.
    config.add_tween(
        "stackq.cache.tween.cache_tween_factory",
        over="pyramid_tm.tm_tween_factory",
        under=["pyramid_debugtoolbar.toolbar_tween_factory", INGRESS],
    )

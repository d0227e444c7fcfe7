"""The response cache: full pages kept in Redis, with a short process-local layer in front.

Only views that opt in are cached: `@view_config(..., cached=CachedPage(...))`.

`invalidate_searches(redis, search_ids)` is the one call other processes make
(the refresher, the harvester) after committing new results.
"""

from pyramid.tweens import INGRESS

from ..infra import registry
from .origin import CachedPage, cached_view, search_in_path
from .store import invalidate_searches
from .tween import ResponseCache

__all__ = ["CachedPage", "invalidate_searches", "includeme", "search_in_path"]


def includeme(config):
    # Always: views declare `cached=` whether or not the cache runs.
    config.add_view_deriver(cached_view)
    settings = config.get_settings()[registry.SETTINGS]
    if settings.cache_ttl <= 0:
        return  # STACKQ_CACHE_TTL=0: no tween at all
    cache = ResponseCache(config.registry[registry.REDIS], settings, config.registry)
    config.registry[registry.RESPONSE_CACHE] = cache
    # Registered, not started: the tween starts the listener on the first request,
    # so scripts that build the app (initialize_db, refresh_queries) start no thread.
    config.registry[registry.EVENTS].add(cache.on_event)
    # Above pyramid_tm: it sees the committed outcome and the final response
    # (error pages included). Below the debug toolbar, which must not be cached.
    config.add_tween(
        "stackq.cache.tween.cache_tween_factory",
        over="pyramid_tm.tm_tween_factory",
        under=["pyramid_debugtoolbar.toolbar_tween_factory", INGRESS],
    )

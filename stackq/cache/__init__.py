"""The response cache: full pages kept in Redis, with a short process-local layer in front.

Only views that opt in are cached: `@view_config(..., cached=CachedPage(...))`.

Every commit drops the pages of the searches it changed: `ResponseCache.after_commit`
listens to the models' after-commit hook in every process that builds the app (the web,
`refresh_queries` and its task worker, `stackq_harvest`). `invalidate_searches(redis,
search_ids)` drops pages by hand, from code that changes results outside the app's sessions.
"""

from pyramid.tweens import INGRESS

from ..infra import registry
from ..models.changes import DROP
from . import store
from .origin import CachedPage, cached_view, parameters, search_in_path
from .store import invalidate_searches
from .tween import ResponseCache

__all__ = ["CachedPage", "invalidate_searches", "includeme", "parameters", "search_in_path"]


def includeme(config):
    # Always: views declare `cached=` whether or not the cache runs.
    config.add_view_deriver(cached_view)
    settings = config.get_settings()[registry.SETTINGS]
    if settings.cache_ttl <= 0:
        # STACKQ_CACHE_TTL=0: no tween here, but the web processes of another setting keep
        # pages of what this process's commits change (a refresher, a harvester).
        client = config.registry[registry.REDIS]
        config.registry[registry.AFTER_COMMIT].add(
            DROP, lambda committed: store.drop_committed(client, committed) is not None)
        return
    cache = ResponseCache(config.registry[registry.REDIS], settings, config.registry)
    config.registry[registry.RESPONSE_CACHE] = cache
    cache.follow_commits(config.registry[registry.AFTER_COMMIT])
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

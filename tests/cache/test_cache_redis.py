"""Redis gone, stopped mid-run or hanging: pages keep coming from the database, marked
BYPASS, and the circuit breaker keeps a dead Redis from costing every request."""

import socket

import pytest

from stackq.cache import invalidate_searches
from stackq.infra.redis_client import CircuitBreaker, RedisUnavailable, breaker_of
from stackq.infra.registry import REDIS
from tests.support.apps import cached_app, quick, visitor
from tests.support.clock import Clock
from tests.support.redis import RedisServer
from tests.support.searches import save_search
from tests.support.serverproc import free_port
from tests.support.waiting import wait_until


def x_cache(response):
    return response.headers.get("X-Cache")


@pytest.fixture
def healthy(request, app_settings, dbengine, tm, dbsession, upstream):
    """A visitor on a cached app with a working Redis: to create searches."""
    server = RedisServer().start()
    yield visitor(cached_app(app_settings, dbengine, server.url, request.addfinalizer), tm,
                  dbsession)
    server.stop()


def test_nothing_listening_pages_still_served_with_bypass(request, app_settings, dbengine, tm,
                                                         dbsession, healthy):
    results = save_search(healthy, "python")
    app = cached_app(app_settings, dbengine, f"redis://127.0.0.1:{free_port()}/0",
                     request.addfinalizer)
    browser = visitor(app, tm, dbsession)
    for path in ("/", results, results + "?sort=title", "/", results):
        answer = browser.get(path)
        assert (answer.status_int, x_cache(answer)) == (200, "BYPASS"), path
    breaker = breaker_of(app.registry[REDIS])
    assert breaker.is_open
    assert breaker.rejected >= 1  # later requests did not even try the socket


def test_redis_stopped_mid_run_then_back(request, app_settings, dbengine, tm, dbsession,
                                         upstream):
    server = RedisServer().start()
    try:
        # No local layer: every answer below says what Redis did.
        app = cached_app(app_settings, dbengine, server.url, request.addfinalizer,
                         **{"stackq.cache.local_ttl": "0"})
        browser = visitor(app, tm, dbsession)
        results = save_search(browser, "python")
        assert [x_cache(browser.get(results)) for _ in range(2)] == ["MISS", "HIT"]
        assert quick(app, results)  # the server lets it in ahead of the others
        server.stop()
        answers = [browser.get(results) for _ in range(6)]
        assert [(a.status_int, x_cache(a)) for a in answers] == [(200, "BYPASS")] * 6
        assert not quick(app, results)  # each is a render now
        assert answers[-1].body == answers[0].body
        assert breaker_of(app.registry[REDIS]).rejected >= 1
        server.start()
        # The breaker lets a probe through after its cool-down and closes.
        assert wait_until(lambda: x_cache(browser.get(results)) != "BYPASS", timeout=10,
                          interval=0.1)
        assert x_cache(browser.get(results)) == "HIT"
        assert quick(app, results)
    finally:
        server.stop()


@pytest.fixture
def hanging_redis():
    """A port that accepts connections and never answers: a Redis that hangs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


def test_hanging_redis_times_out_and_is_then_skipped(request, app_settings, dbengine, tm,
                                                     dbsession, upstream, hanging_redis):
    app = cached_app(app_settings, dbengine, hanging_redis, request.addfinalizer)
    browser = visitor(app, tm, dbsession)
    answers = [browser.get("/") for _ in range(6)]
    assert [(a.status_int, x_cache(a)) for a in answers] == [(200, "BYPASS")] * 6
    breaker = breaker_of(app.registry[REDIS])
    assert breaker.is_open and breaker.rejected >= 1


def test_invalidating_without_redis_reports_instead_of_raising(request, app_settings, dbengine):
    app = cached_app(app_settings, dbengine, f"redis://127.0.0.1:{free_port()}/0",
                     request.addfinalizer)
    assert invalidate_searches(app.registry[REDIS], [1, 2]) is False


def test_breaker_opens_probes_once_and_backs_off():
    clock = Clock(100.0)
    breaker = CircuitBreaker(threshold=3, cooldown=0.5, max_cooldown=2.0, clock=clock)
    a, b = object(), object()
    for _ in range(3):
        breaker.allow(a)
        breaker.failed(OSError("refused"))
    with pytest.raises(RedisUnavailable):
        breaker.allow(a)
    clock.now += 0.5
    breaker.allow(a)  # the probe
    with pytest.raises(RedisUnavailable):
        breaker.allow(b)  # everyone else waits for the probe's outcome
    breaker.failed(OSError("refused"))
    clock.now += 0.5
    with pytest.raises(RedisUnavailable):
        breaker.allow(a)  # the cool-down doubled
    clock.now += 0.5
    breaker.allow(b)
    breaker.succeeded()
    assert not breaker.is_open
    breaker.allow(a)
    assert breaker.rejected == 3

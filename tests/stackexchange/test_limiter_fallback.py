"""The limiter's fallback on its own clock: after Redis fails, this process decides alone and
tries Redis again once per RETRY_INTERVAL; once Redis answers, calls need both limiters until
every other process can have seen it back (REJOIN_LAG) and one window more, then the shared
one alone (stackq/stackexchange/limiter.py)."""

import uuid

import pytest
import redis

from stackq.infra.redis_client import CircuitBreaker
from stackq.infra.settings import Rate
from stackq.stackexchange.limiter import REJOIN_LAG, RETRY_INTERVAL, Limiter
from stackq.stackexchange.policy import Grant, Outcome
from tests.support.clock import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def limiter(redis_url, clock):
    client = redis.Redis.from_url(redis_url)
    made = Limiter(["http://mirror.invalid/2.3"], Rate(10, 1), 5.0, redis_client=client,
                   namespace=f"stackq-test:{uuid.uuid4().hex[:10]}", clock=clock)
    yield made
    made.shared.reset()
    client.close()


def mode_after_a_call(limiter):
    got = limiter.acquire("info", [0])
    if isinstance(got, Grant):
        limiter.release(got, "info", Outcome(ok=True, answered=True))
    return limiter.mode


def test_redis_is_tried_again_once_per_interval_then_rejoined_after_a_window(limiter, clock):
    grant = limiter.acquire("info", [0])
    assert isinstance(grant, Grant) and grant.shared
    limiter.release(grant, "info", Outcome(ok=True, answered=True))
    limiter.redis_failed(redis.ConnectionError("gone"))
    assert (limiter.mode, limiter.redis_ok) == ("local", False)
    assert limiter.status()[1] is False  # /status says it is this process's own picture

    clock.advance(RETRY_INTERVAL - 0.01)
    assert mode_after_a_call(limiter) == "local"  # Redis not asked before its interval
    clock.advance(0.02)
    assert mode_after_a_call(limiter) == "rejoining"  # it answered: both limiters decide

    clock.advance(limiter.window + REJOIN_LAG - 0.05)
    assert mode_after_a_call(limiter) == "rejoining"
    clock.advance(0.1)
    assert mode_after_a_call(limiter) == "shared"
    assert limiter.redis_ok and limiter.status()[1] is True


def test_rejoining_outlasts_another_process_breaker_and_retry(limiter, clock):
    # Another process whose breaker opened for its longest cool-down just as Redis came back
    # retries only after it, and one interval later at worst: until then it calls on its
    # fallback share, unknown to Redis, so this process must still count its own share.
    breaker = CircuitBreaker()
    assert REJOIN_LAG >= breaker.max_cooldown + RETRY_INTERVAL
    limiter.redis_failed(redis.ConnectionError("gone"))
    clock.advance(RETRY_INTERVAL + 0.01)
    assert mode_after_a_call(limiter) == "rejoining"
    clock.advance(breaker.max_cooldown + RETRY_INTERVAL)
    assert mode_after_a_call(limiter) == "rejoining"


def test_a_second_failure_while_local_keeps_the_first_retry_time(limiter, clock):
    limiter.redis_failed(redis.ConnectionError("gone"))
    clock.advance(RETRY_INTERVAL / 2)
    limiter.redis_failed(redis.ConnectionError("still gone"))  # already local: no new wait
    clock.advance(RETRY_INTERVAL / 2 + 0.01)
    assert mode_after_a_call(limiter) == "rejoining"


def test_a_back_off_redis_lost_is_handed_back_on_rejoining(limiter, clock):
    # A Sentinel failover loses the writes its replica had not acknowledged yet, a back-off
    # among them; the process that was told still knows it, and tells Redis again.
    grant = limiter.acquire("questions", [0])
    limiter.release(grant, "questions", Outcome(ok=True, answered=True, backoff=30))
    limiter.shared.reset()  # the new master never had it
    limiter.redis_failed(redis.ConnectionError("master moved"))
    clock.advance(RETRY_INTERVAL + 0.01)
    assert mode_after_a_call(limiter) == "rejoining"
    ((mirror,), shared) = limiter.status()
    assert shared and mirror.backoff["questions"] == pytest.approx(30, abs=2)
    assert limiter.shared.acquire("questions", [0]).reason == "backoff"

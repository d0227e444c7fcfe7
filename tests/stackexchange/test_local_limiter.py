"""The per-process limiter on an injected clock: windows, back-off, bans, quota and flights
move with the clock the test turns, never with the wall's."""

import math

import pytest

from stackq.stackexchange.limiter.local import LocalLimiter
from stackq.stackexchange.policy import (
    BACKOFF_MARGIN,
    STORM_BAN,
    STORM_FAILURES,
    Grant,
    Outcome,
    Wait,
    next_utc_midnight,
)
from tests.support.clock import Clock

START = 1_800_000_000.0 + 3600  # an hour into a UTC day
ANSWERED = Outcome(ok=True, answered=True)


@pytest.fixture
def clock():
    return Clock(START)


def limiter(clock, mirrors=1, limit=2, window=1.0, cap=2, bound=5.0):
    return LocalLimiter(mirrors, limit, window, bound, cap=cap, clock=clock)


def call(local, method="info", outcome=ANSWERED, candidates=(0,)):
    """One granted call answered at once; the grant."""
    grant = local.acquire(method, list(candidates))
    assert isinstance(grant, Grant), grant
    local.release(grant, method, outcome)
    return grant


def test_a_full_window_frees_a_slot_when_its_oldest_call_leaves_it(clock):
    local = limiter(clock)
    call(local)
    clock.advance(0.25)
    call(local)
    assert local.acquire("info", [0]) == Wait(pytest.approx(0.75), "rate")
    clock.advance(0.75)
    assert isinstance(local.acquire("info", [0]), Grant)


def test_a_backoff_holds_its_method_only_until_it_ends(clock):
    local = limiter(clock)
    call(local, "search/advanced", Outcome(ok=True, answered=True, backoff=5))
    assert local.acquire("search/advanced", [0]) == Wait(pytest.approx(5 + BACKOFF_MARGIN),
                                                         "backoff")
    assert isinstance(local.acquire("info", [0]), Grant)
    clock.advance(5 + BACKOFF_MARGIN)
    assert isinstance(local.acquire("search/advanced", [0]), Grant)


def test_calls_that_never_reach_a_mirror_ban_it_for_a_while(clock):
    local = limiter(clock, limit=10)
    for _ in range(STORM_FAILURES):
        call(local, outcome=Outcome(answered=False))
    assert local.acquire("info", [0]) == Wait(pytest.approx(STORM_BAN), "ban")
    (status,) = local.status(["http://mirror"])
    assert (status.banned_for, status.ban_reason) == (pytest.approx(STORM_BAN), "unreachable")
    clock.advance(STORM_BAN)
    assert isinstance(local.acquire("info", [0]), Grant)


def test_a_spent_quota_waits_for_utc_midnight(clock):
    local = limiter(clock)
    call(local, outcome=Outcome(ok=True, answered=True, quota_remaining=0, quota_max=300))
    midnight = next_utc_midnight(clock.now)
    assert local.acquire("info", [0]) == Wait(pytest.approx(midnight - clock.now), "quota")
    clock.advance(midnight - clock.now)
    assert isinstance(local.acquire("info", [0]), Grant)


def test_at_most_cap_calls_of_a_method_fly_and_a_dead_callers_flight_expires(clock):
    local = limiter(clock, limit=10, cap=1, bound=5.0)
    local.acquire("info", [0])  # its caller never comes back
    assert local.acquire("info", [0]) == Wait(0.0, "busy")
    assert isinstance(local.acquire("sites", [0]), Grant)  # another method flies on its own
    clock.advance(5.01)
    assert isinstance(local.acquire("info", [0]), Grant)


def test_a_busy_mirror_sends_the_call_to_the_other(clock):
    local = limiter(clock, mirrors=2, limit=10, cap=1)
    first = local.acquire("info", [0, 1])
    second = local.acquire("info", [0, 1])
    assert {first.mirror, second.mirror} == {0, 1}
    assert local.acquire("info", [0, 1]).reason == "busy"


def test_hold_all_stops_every_mirror_for_its_seconds(clock):
    local = limiter(clock, mirrors=2)
    local.hold_all(3)
    assert local.acquire("info", [0, 1]) == Wait(pytest.approx(3), "rate")
    clock.advance(3)
    assert isinstance(local.acquire("info", [0, 1]), Grant)


def test_the_handover_keeps_only_calls_still_in_the_window(clock):
    local = limiter(clock, limit=10, window=1.0)
    old = call(local)
    clock.advance(0.6)
    recent = call(local)
    clock.advance(0.6)
    ((ban_until, _, entries, _, _),) = local.handover()
    assert set(entries) == {recent.token} and old.token not in entries
    assert ban_until == 0.0 and not math.isinf(entries[recent.token])

"""Rate, back-off, bans and quota, kept together by ApiAccess objects sharing Redis.

Each ApiAccess on the namespace stands for a process (tests/support/access.py);
tests/stackexchange/test_access_processes.py does the same with real processes.
"""

import time

import pytest

from stackq.infra.registry import API
from stackq.infra.settings import Rate
from stackq.stackexchange import (
    QuotaExhausted,
    RateLimited,
    ThrottleViolation,
)
from stackq.stackexchange.policy import Outcome
from tests.support.access import accesses_on_one_namespace, run_threads


@pytest.fixture
def make_access(redis_url, mirrors):
    with accesses_on_one_namespace(redis_url, mirrors) as make:
        yield make


def test_two_processes_together_stay_under_each_mirrors_rate(mirrors, make_access):
    for emu in mirrors:
        emu.configure(max_rate=4)
    first, second = make_access(max_rate=Rate(4, 1)), make_access(max_rate=Rate(4, 1))
    results = run_threads(8, lambda i: [
        (first if i % 2 else second).fetch("info", site="stackoverflow", n=f"{i}-{k}").mirror
        for k in range(3)])
    assert all(isinstance(r, list) for r in results), results
    assert [emu.stats()["violations"] for emu in mirrors] == [0, 0]
    # Each mirror took its share: the limiter sends a call where it can go soonest (a call
    # answered a moment early may take the other's turn, never more than a window's worth).
    requests = [emu.stats()["requests"] for emu in mirrors]
    assert sum(requests) == 24 and min(requests) >= 24 // 2 - 4, requests


def test_a_per_minute_style_rate_holds_in_every_window(mirrors, make_access):
    emu = mirrors[0]
    emu.configure(max_rate=3, rate_window=2)  # like 30/minute, scaled down to 3 per 2 s
    access = make_access(urls=[emu.base_url], max_rate=Rate(3, 2))
    started = time.monotonic()
    for n in range(5):
        access.fetch("info", site="stackoverflow", n=n)
    assert time.monotonic() - started >= 2.0  # the 4th call had to wait for the window
    assert emu.stats()["violations"] == 0


def test_backoff_holds_the_method_for_every_process(mirrors, make_access):
    emu = mirrors[0]
    emu.configure(backoff={"search/advanced": 1})
    first, second = make_access(urls=[emu.base_url]), make_access(urls=[emu.base_url])
    first.fetch("search/advanced", site="stackoverflow", q="python")
    # The other process sees the back-off too...
    assert "search/advanced" in second.status().mirrors[0].backoff
    # ...does not wait for another method...
    second.fetch("info", site="stackoverflow")
    # ...and waits for this one rather than breaking it.
    second.fetch("search/advanced", site="stackoverflow", q="python", page=2)
    assert emu.stats()["violations"] == 0
    assert emu.stats()["by_method"]["search/advanced"] == 2


def test_a_wait_beyond_max_wait_is_rate_limited_with_the_time_left(mirrors, make_access):
    emu = mirrors[0]
    emu.configure(backoff={"search/advanced": 5})
    access = make_access(urls=[emu.base_url], max_wait=0.5)
    access.fetch("search/advanced", site="stackoverflow", q="python")
    with pytest.raises(RateLimited) as info:
        access.fetch("search/advanced", site="stackoverflow", q="python", page=2)
    assert 4 < info.value.retry_after <= 5.2
    assert "next slot is free in" in str(info.value)
    assert emu.stats()["by_method"]["search/advanced"] == 1  # refused here, never sent
    # A caller may accept a longer wait for one call.
    with pytest.raises(RateLimited):
        access.fetch("search/advanced", site="stackoverflow", q="python", page=2, max_wait=1)


def test_a_throttled_mirror_is_banned_calls_fail_over_then_it_recovers(mirrors, make_access):
    emu, emu2 = mirrors
    emu.configure(ban_seconds=1)
    emu.set_fault("throttle", count=1)
    access, other = make_access(), make_access()
    calls = 0
    while emu.stats()["requests"] == 0:  # until a call lands on the first mirror
        assert access.fetch("info", site="stackoverflow", n=calls).mirror == emu2.base_url
        calls += 1
    # That call was throttled there and answered by the other mirror; the ban is shared.
    status = other.status().mirrors[0]
    assert status.banned_for > 0.5 and status.ban_reason == "throttled"
    seen = {other.fetch("info", site="stackoverflow", n=f"b{n}").mirror for n in range(4)}
    assert seen == {emu2.base_url} and emu.stats()["requests"] == 1
    time.sleep(1.2)
    seen = {access.fetch("info", site="stackoverflow", n=f"c{n}").mirror for n in range(6)}
    assert emu.base_url in seen
    assert emu.stats()["violations"] == emu2.stats()["violations"] == 0


def test_throttled_everywhere_is_the_throttle_then_rate_limited(mirrors, make_access):
    for emu in mirrors:
        emu.configure(ban_seconds=30)
        emu.set_fault("throttle")
    access = make_access(max_wait=1)
    with pytest.raises(ThrottleViolation):
        access.fetch("info", site="stackoverflow")
    assert [emu.stats()["requests"] for emu in mirrors] == [1, 1]
    with pytest.raises(RateLimited) as info:
        make_access(max_wait=1).fetch("info", site="stackoverflow")
    assert info.value.retry_after > 20
    assert [emu.stats()["requests"] for emu in mirrors] == [1, 1]


def test_a_mirror_out_of_quota_is_skipped_then_a_clear_error(mirrors, make_access):
    emu, emu2 = mirrors
    emu.configure(quota=2)
    emu2.configure(quota=3)
    access = make_access()
    answers = [access.fetch("info", site="stackoverflow", n=n) for n in range(5)]
    assert sorted(a.quota_remaining for a in answers) == [0, 0, 1, 1, 2]
    with pytest.raises(QuotaExhausted) as info:
        access.fetch("info", site="stackoverflow", n=5)
    assert "quota is used up on every mirror" in str(info.value)
    assert "00:00 UTC" in str(info.value)
    # No mirror was asked past its quota: no throttle answers at all.
    assert [emu.stats()["requests"] for emu in mirrors] == [2, 3]
    assert [m.quota_remaining for m in access.status().mirrors] == [0, 0]


def test_a_mirror_that_keeps_dropping_connections_is_left_alone_for_a_while(
        mirrors, make_access):
    emu, emu2 = mirrors
    emu.set_fault("reset")
    access = make_access()
    for n in range(40):  # each call that lands on the broken mirror fails over
        assert access.fetch("info", site="stackoverflow", n=n).mirror == emu2.base_url
        if emu.stats()["requests"] == 3:
            break
    status = access.status().mirrors[0]
    assert status.ban_reason == "unreachable" and 14 < status.banned_for <= 15
    for n in range(5):
        access.fetch("info", site="stackoverflow", n=f"after-{n}")
    assert emu.stats()["requests"] == 3


def test_a_backoff_violation_holds_that_method_on_that_mirror_only(
        testapp, mirrors, make_access):
    emu, emu2 = mirrors
    emu.set_fault("backoff_violation", count=1)
    access = make_access()
    for n in range(40):  # until a call lands on the first mirror...
        answer = access.fetch("search/advanced", site="stackoverflow", q="python", page=n + 1)
        # ...where it fails, and goes over to the other mirror at once.
        assert answer.mirror == emu2.base_url
        if emu.stats()["requests"]:
            break
    held, other = access.status().mirrors
    assert 10 <= held.backoff["search/advanced"] <= 10.2  # max(last back-off, 10 s) + margin
    assert held.banned_for == 0 and held.violations == {"backoff": 1}
    assert other.violations == {} and other.backoff == {}
    # That method goes to the other mirror; other methods still use both.
    seen = {access.fetch("search/advanced", site="stackoverflow", q="sql", page=n).mirror
            for n in range(1, 5)}
    assert seen == {emu2.base_url}
    seen = {access.fetch("info", site="stackoverflow", n=n).mirror for n in range(12)}
    assert seen == {emu.base_url, emu2.base_url}
    testapp.app.registry[API] = access
    row = testapp.get("/status").html.select("table.mirrors tbody tr")[0]
    assert row.select_one(".violations").text.split() == ["1", "(back-off)"]
    assert "search/advanced for" in row.select_one(".backoff").text


def test_each_repeated_backoff_violation_within_an_hour_doubles_the_hold(mirrors, make_access):
    access = make_access(urls=[mirrors[0].base_url])
    limiter = access.limiter
    holds = []
    for k in range(3):
        # The method is held after the first: a grant of another stands for the call.
        grant = limiter.shared.acquire(f"stand-in/{k}", [0])
        limiter.release(grant, "search/advanced", Outcome(answered=True, violation="backoff"))
        holds.append(access.status().mirrors[0].backoff["search/advanced"])
    assert [round(hold) for hold in holds] == [10, 20, 40]
    assert access.status().mirrors[0].violations == {"backoff": 3}


def test_a_throttle_naming_its_time_bans_the_mirror_and_counts_a_violation(mirrors, make_access):
    emu, emu2 = mirrors
    emu.configure(ban_seconds=5)
    emu.set_fault("throttle", count=1)
    access = make_access()
    while not emu.stats()["requests"]:
        access.fetch("info", site="stackoverflow", n=emu2.stats()["requests"])
    banned = access.status().mirrors[0]
    assert 4 < banned.banned_for <= 5.2 and banned.violations == {"rate": 1}

"""The API access layer shared through Redis: rate, back-off, bans, quota, answer cache.

Two ApiAccess objects on one Redis namespace stand for two processes (they share nothing
else); tests/test_access_processes.py does the same with real processes.
"""

import threading
import time
import uuid

import pytest
import redis

from stackq.redis_client import redis_from_settings
from stackq.settings import Rate, SettingsError, load_settings
from stackq.stackexchange import (
    ApiAccess,
    BadParameter,
    QuotaExhausted,
    RateLimited,
    ThrottleViolation,
    configure,
    default_access,
    fetch,
    standalone,
)
from stackq.stackexchange.answers import answer_key
from stackq.stackexchange.policy import Grant, Outcome, Wait
from tests.serverproc import free_port


@pytest.fixture
def shared_redis(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def make_access(shared_redis, mirrors):
    """ApiAccess objects on the test's mirrors, sharing one fresh Redis namespace."""
    namespace = f"stackq-test:{uuid.uuid4().hex[:10]}"
    made = []

    def make(*, urls=None, **options):
        options.setdefault("timeout", 2)
        options.setdefault("max_rate", Rate(100, 1))
        urls = urls or [m.base_url for m in mirrors]
        access = ApiAccess(urls, redis=shared_redis, namespace=namespace, **options)
        made.append(access)
        return access

    yield make
    for access in made:
        access.reset()


def run_threads(count, target):
    """Run `target(i)` on `count` threads; returns what each returned or raised."""
    results = [None] * count

    def run(i):
        try:
            results[i] = target(i)
        except Exception as exc:  # returned to the test, which asserts on it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


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


def test_fifty_identical_calls_at_once_make_one_upstream_request(mirrors, make_access):
    emu = mirrors[0]
    first = make_access(urls=[emu.base_url], max_rate=Rate(1, 1), cache_ttl=0)
    second = make_access(urls=[emu.base_url], max_rate=Rate(1, 1), cache_ttl=0)
    first.fetch("info", site="stackoverflow", n="fill")  # the next slot is ~1 s away
    results = run_threads(50, lambda i: (first if i % 2 else second).fetch(
        "search/advanced", site="stackoverflow", q="python"))
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({tuple(it["question_id"] for it in r.items) for r in results}) == 1
    assert emu.stats()["by_method"]["search/advanced"] == 1
    counts = first.status().answers
    assert counts["joined"] == 49 and counts["calls"] == 2


def test_errors_are_shared_with_callers_that_joined(mirrors, make_access):
    emu = mirrors[0]
    access = make_access(urls=[emu.base_url], max_rate=Rate(1, 1))
    access.fetch("info", site="stackoverflow", n="fill")
    results = run_threads(10, lambda i: make_access(urls=[emu.base_url], max_rate=Rate(1, 1))
                          .fetch("search/advanced", q="python"))  # no site: bad_parameter
    assert all(isinstance(r, BadParameter) for r in results), results
    assert emu.stats()["by_method"]["search/advanced"] == 1


def test_an_answer_is_reused_within_the_cache_ttl(mirrors, make_access):
    emu = mirrors[0]
    first, second = make_access(urls=[emu.base_url]), make_access(urls=[emu.base_url])
    fresh = first.fetch("search/advanced", site="stackoverflow", q="python", pagesize=5)
    cached = second.fetch("search/advanced", site="stackoverflow", pagesize=5, q="python")
    assert cached.items == fresh.items and cached.mirror == emu.base_url
    assert emu.stats()["by_method"]["search/advanced"] == 1
    # The refresher asks for an answer no older than it can accept.
    emu.mutate("stackoverflow", "python", new=1)
    latest = second.fetch("search/advanced", site="stackoverflow", q="python", pagesize=5,
                          max_age=0)
    assert latest.items != fresh.items
    assert emu.stats()["by_method"]["search/advanced"] == 2
    status = first.status()
    assert status.answers == {"hits": 1, "joined": 0, "calls": 2}
    assert status.hit_rate == pytest.approx(1 / 3)


def test_status_page_shows_each_mirror_and_is_never_stored(testapp, upstream):
    upstream.configure(backoff={"info": 30})
    api = testapp.app.registry["stackq.api"]
    api.fetch("info", site="stackoverflow")
    api.fetch("info", site="stackoverflow")  # from the cache
    page = testapp.get("/status")
    assert page.headers["Cache-Control"] == "no-store"
    row = page.html.select_one("table.mirrors tbody tr")
    assert row.select_one(".url").text == upstream.base_url
    assert row.select_one(".rate").text.strip().startswith("1")
    assert "info for" in row.select_one(".backoff").text
    assert row.select_one(".ban").text.strip() == "none"
    assert row.select_one(".quota").text.startswith("299 of 300")
    assert page.html.select_one(".hit-rate").text == "50 %"


def test_a_leader_that_died_mid_call_holds_followers_only_until_its_lease(
        mirrors, make_access, shared_redis):
    emu = mirrors[0]
    access = make_access(urls=[emu.base_url])
    params = {"site": "stackoverflow", "q": "python", "pagesize": 5}
    stale = access.fetch("search/advanced", **params)
    emu.mutate("stackoverflow", "python", new=1)
    # A process took the flight for this call and was killed: its lock outlives it briefly.
    key = answer_key("search/advanced", "stackoverflow", {"q": "python", "pagesize": 5})
    shared_redis.set(f"{access.answers.prefix}:flight:{key}", "dead-leader", px=300)
    fresh = access.fetch("search/advanced", max_age=0, **params)
    assert fresh.items != stale.items  # not the cached answer from before the change
    assert emu.stats()["by_method"]["search/advanced"] == 2


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


def test_the_new_settings_are_typed_and_checked():
    settings = load_settings({}, here="/x", environ={"STACKQ_API_MAX_WAIT": "2.5"})
    typed = settings["stackq.settings"]
    assert (typed.api_max_wait, typed.api_expected_processes) == (2.5, 4)
    with pytest.raises(SettingsError, match="stackq.api.expected_processes"):
        load_settings({"stackq.api.expected_processes": "0"}, here="/x", environ={})


def test_without_redis_a_process_keeps_to_its_share_and_says_so(testapp, upstream, caplog):
    settings = load_settings({"redis.url": f"redis://127.0.0.1:{free_port()}/0"}, here="/x",
                             environ={})
    nobody = redis_from_settings(settings["stackq.settings"])  # the app's own kind of client
    access = ApiAccess([upstream.base_url], timeout=2, redis=nobody, max_rate=Rate(8, 1),
                       expected_processes=4)
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="stackq.stackexchange"):
        for n in range(3):
            access.fetch("info", site="stackoverflow", n=n)
    # One window's pause (what Redis allowed just before is unknown), then 2 calls a second.
    assert time.monotonic() - started >= 2.0
    assert "Redis unreachable" in caplog.text and "at most 2 calls per 1 s" in caplog.text
    status = access.status()
    assert not status.shared and status.mirrors[0].calls_last_second >= 1
    testapp.app.registry["stackq.api"] = access
    page = testapp.get("/status")
    assert "Redis is unreachable" in page.html.select_one(".redis-down").text
    assert "2 calls per 1 s per mirror in this process" in page.html.select_one("caption").text


def test_a_script_takes_its_settings_from_an_ini_file(mirrors, redis_url, tmp_path, monkeypatch):
    monkeypatch.setattr(standalone, "_access", None)
    monkeypatch.setattr(standalone, "_configured", None)
    emu = mirrors[0]
    ini = tmp_path / "script.ini"
    ini.write_text(f"[app:main]\nuse = egg:stackq\nredis.url = {redis_url}\n"
                   f"stackq.api.urls = {emu.base_url}\nstackq.api.max_wait = 3\n"
                   "sqlalchemy.url = sqlite:///%(here)s/unused.sqlite\n")
    access = configure(str(ini), **{"stackq.api.cache_ttl": "0"})
    assert fetch("info", site="stackoverflow").mirror == emu.base_url
    assert default_access() is access and access.max_wait == 3
    assert access.answers.ttl == 0
    access.reset()


def test_an_unreadable_cached_answer_is_a_miss(mirrors, make_access, shared_redis):
    emu = mirrors[0]
    access = make_access(urls=[emu.base_url])
    key = answer_key("info", "stackoverflow", {})
    shared_redis.set(f"{access.answers.prefix}:answer:{key}", b"not a record")
    assert access.fetch("info", site="stackoverflow").items
    assert emu.stats()["by_method"]["info"] == 1


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
    testapp.app.registry["stackq.api"] = access
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


def test_an_interactive_caller_goes_before_background_callers_that_asked_first(
        mirrors, make_access, shared_redis):
    emu = mirrors[0]
    emu.configure(latency=0.3)
    access = make_access(urls=[emu.base_url])
    order = []

    def call(name, priority):
        access.fetch("info", site="stackoverflow", n=name, priority=priority, max_wait=10)
        order.append(name)

    threads = [threading.Thread(target=call, args=(f"background {i}", "background"))
               for i in range(4)]
    for thread in threads:
        thread.start()
    queue = access.limiter.shared._queue("info")
    deadline = time.monotonic() + 5
    while shared_redis.zcard(queue) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    # One background call is in flight, the others wait in line; then someone opens a page.
    waiting = shared_redis.zcard(queue)
    web = threading.Thread(target=call, args=("web", "interactive"))
    web.start()
    for thread in [*threads, web]:
        thread.join(10)
    # Served before every background call still waiting when it asked.
    assert order.index("web") == len(threads) - waiting, order
    assert emu.stats()["peak_in_flight"] == {"info": 1}


@pytest.mark.parametrize("cap", [1, 2])
def test_without_redis_a_process_keeps_the_in_flight_rule(upstream, cap):
    upstream.configure(latency=0.15)
    settings = load_settings({"redis.url": f"redis://127.0.0.1:{free_port()}/0"}, here="/x",
                             environ={})
    nobody = redis_from_settings(settings["stackq.settings"])
    access = ApiAccess([upstream.base_url], timeout=2, redis=nobody, max_rate=Rate(50, 1),
                       expected_processes=1, max_in_flight=cap)
    results = run_threads(6, lambda i: access.fetch("info", site="stackoverflow", n=i).mirror)
    assert results == [upstream.base_url] * 6
    assert not access.status().shared
    assert upstream.stats()["peak_in_flight"] == {"info": cap}


def test_max_in_flight_is_a_setting():
    typed = load_settings({}, here="/x", environ={"STACKQ_API_MAX_IN_FLIGHT": "3"})
    assert typed["stackq.settings"].api_max_in_flight == 3
    assert load_settings({}, here="/x", environ={})["stackq.settings"].api_max_in_flight == 1
    with pytest.raises(SettingsError, match="stackq.api.max_in_flight"):
        load_settings({"stackq.api.max_in_flight": "0"}, here="/x", environ={})


def test_a_reserved_slot_is_rechecked_after_its_delay(mirrors, make_access):
    access = make_access(urls=[mirrors[0].base_url], max_rate=Rate(1, 1))
    shared = access.limiter.shared
    first = shared.acquire("info", [0])
    shared.release(first, "info", Outcome(ok=True, answered=True))
    reserved = shared.acquire("info", [0], max_delay=2)
    assert 0.9 < reserved.delay <= 1.01  # the rate's next slot, held for this caller
    # Meanwhile another host's call of the method is told to back off.
    shared.release(Grant(0, "another-host", shared=True), "info",
                   Outcome(ok=True, answered=True, backoff=5))
    assert access.limiter.confirm(reserved, "info") is False  # not sent
    assert "info" in access.status().mirrors[0].backoff
    assert access.status().mirrors[0].in_flight == 0  # its slot was given back


def test_a_background_caller_gives_its_reserved_slot_to_an_interactive_one(
        mirrors, make_access):
    access = make_access(urls=[mirrors[0].base_url], max_rate=Rate(1, 1))
    shared = access.limiter.shared
    first = shared.acquire("info", [0])
    shared.release(first, "info", Outcome(ok=True, answered=True))
    reserved = shared.acquire("info", [0], max_delay=2, background=True)
    assert reserved.delay > 0.9
    # Someone opens a page and waits for the same slot.
    assert isinstance(shared.acquire("info", [0], waiter="visitor"), Wait)
    assert shared.confirm(reserved, "info", background=True) == "yield"
    taken = shared.acquire("info", [0], waiter="visitor", max_delay=2)
    assert isinstance(taken, Grant) and taken.delay <= reserved.delay
    assert shared.confirm(taken, "info") == ""


def test_a_caller_waiting_for_a_held_mirror_holds_up_no_one_on_the_other(
        mirrors, make_access):
    shared = make_access().limiter.shared
    shared.release(Grant(0, "another-host", shared=True), "info",
                   Outcome(answered=True, violation="backoff"))  # info held on mirror 0
    # A call that can only go to mirror 0 (the other failed it) waits there, first in line...
    assert shared.acquire("info", [0], waiter="first") == Wait(pytest.approx(10.1, abs=0.1),
                                                               "backoff")
    # ...and a caller behind it goes to mirror 1 meanwhile.
    assert shared.acquire("info", [0, 1], waiter="second").mirror == 1

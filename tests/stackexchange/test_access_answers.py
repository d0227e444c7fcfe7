"""Answers shared through Redis: identical calls made once, errors shared, the answer cache."""

import pytest

from stackq.infra.settings import Rate
from stackq.stackexchange import BadParameter
from stackq.stackexchange.answers import answer_key
from tests.support.access import accesses_on_one_namespace, run_threads


@pytest.fixture
def make_access(redis_url, mirrors):
    with accesses_on_one_namespace(redis_url, mirrors) as make:
        yield make


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


def test_a_leader_that_died_mid_call_holds_followers_only_until_its_lease(
        mirrors, make_access):
    emu = mirrors[0]
    access = make_access(urls=[emu.base_url])
    params = {"site": "stackoverflow", "q": "python", "pagesize": 5}
    stale = access.fetch("search/advanced", **params)
    emu.mutate("stackoverflow", "python", new=1)
    # A process took the flight for this call and was killed: its lock outlives it briefly.
    key = answer_key("search/advanced", "stackoverflow", {"q": "python", "pagesize": 5})
    make_access.redis.set(f"{access.answers.prefix}:flight:{key}", "dead-leader", px=300)
    fresh = access.fetch("search/advanced", max_age=0, **params)
    assert fresh.items != stale.items  # not the cached answer from before the change
    assert emu.stats()["by_method"]["search/advanced"] == 2


def test_an_unreadable_cached_answer_is_a_miss(mirrors, make_access):
    emu = mirrors[0]
    access = make_access(urls=[emu.base_url])
    key = answer_key("info", "stackoverflow", {})
    make_access.redis.set(f"{access.answers.prefix}:answer:{key}", b"not a record")
    assert access.fetch("info", site="stackoverflow").items
    assert emu.stats()["by_method"]["info"] == 1

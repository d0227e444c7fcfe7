"""The process-local layer on its own, with an injected clock and share: copies stored at
the same instant end at different instants, none outlives the ttl, drops still win."""

import random

from stackq.cache.local import LocalCache
from stackq.cache.store import Entry
from tests.support.clock import Clock

T0 = 1000.0


def entry(body=b"page"):
    return Entry(200, [], body, T0, 1)


def filled(share, count=20, ttl=1.0, expires=T0 + 60):
    clock = Clock(T0)
    local = LocalCache(ttl=ttl, clock=clock, share=share)
    for i in range(count):
        local.put(f"k{i}", "gen", entry(), local.epoch, expires)
    return local, clock


def alive(local, clock, at, count=20):
    clock.now = T0 + at
    # Read without the expiry side effect, so one instant's reading does not change the next.
    return sum(local.entries[f"k{i}"][0] > clock.now for i in range(count))


def test_copies_stored_at_the_same_instant_expire_at_different_instants():
    local, clock = filled(random.Random(7).random)
    ends = {expires for expires, _, _ in local.entries.values()}
    assert len(ends) == 20
    assert alive(local, clock, 0.499) == 20  # every copy lives at least half the ttl
    assert 0 < alive(local, clock, 0.75) < 20  # and they end spread over the other half
    assert alive(local, clock, 1.0) == 0


def test_no_copy_outlives_the_ttl_nor_its_redis_entry():
    local, clock = filled(lambda: 0.999999, ttl=0.8)
    clock.now = T0 + 0.79
    assert local.get("k0") is not None
    clock.now = T0 + 0.8
    assert local.get("k0") is None
    # A Redis entry ending sooner bounds the copy, whatever its share.
    local, clock = filled(lambda: 0.999999, expires=T0 + 0.3)
    clock.now = T0 + 0.3
    assert local.get("k0") is None


def test_a_drop_still_removes_copies_with_time_left():
    local, clock = filled(lambda: 0.999999, count=2)
    epoch = local.epoch
    clock.now = T0 + 0.1
    local.drop(["gen"])
    assert local.get("k0") is None and local.get("k1") is None
    local.put("late", "gen", entry(), epoch, T0 + 60)  # rendered before the drop
    assert local.get("late") is None


def test_local_layer_holds_no_more_than_its_byte_budget():
    clock = Clock(T0)
    local = LocalCache(ttl=1.0, max_bytes=250, clock=clock)
    for i in range(5):
        local.put(f"k{i}", "gen", entry(b"x" * 100), local.epoch, T0 + 60)
    assert list(local.entries) == ["k3", "k4"]
    assert local.size == 200
    epoch = local.epoch
    local.drop(["other"])  # every drop also drops the listings, not "gen"
    assert list(local.entries) == ["k3", "k4"]
    local.put("late", "gen", entry(b"y"), epoch, T0 + 60)
    assert local.get("late") is None  # rendered before the drop: not kept

"""Whose call goes next on a shared mirror: interactive callers first, reserved slots."""

import threading
import time

import pytest

from stackq.infra.settings import Rate
from stackq.stackexchange.policy import Grant, Outcome, Wait
from tests.support.access import accesses_on_one_namespace


@pytest.fixture
def make_access(redis_url, mirrors):
    with accesses_on_one_namespace(redis_url, mirrors) as make:
        yield make


def test_an_interactive_caller_goes_before_background_callers_that_asked_first(
        mirrors, make_access):
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
    while make_access.redis.zcard(queue) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    # One background call is in flight, the others wait in line; then someone opens a page.
    waiting = make_access.redis.zcard(queue)
    web = threading.Thread(target=call, args=("web", "interactive"))
    web.start()
    for thread in [*threads, web]:
        thread.join(10)
    # Served before every background call still waiting when it asked.
    assert order.index("web") == len(threads) - waiting, order
    assert emu.stats()["peak_in_flight"] == {"info": 1}


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

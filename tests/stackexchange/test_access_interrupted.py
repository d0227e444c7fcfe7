"""A call interrupted while it waits for its slot (Ctrl-C, any BaseException, or the
process stopping: `ApiAccess.stop`) gives the slot back at once, on the shared (Redis)
limiter: the next caller need not wait for the in-flight bound to run out."""

import threading
import time

import pytest

from stackq.infra.settings import Rate
from stackq.stackexchange.access import Stopped
from stackq.stackexchange.policy import Grant, Outcome
from tests.support.access import accesses_on_one_namespace
from tests.support.waiting import wait_until


@pytest.fixture
def make_access(redis_url, mirrors):
    with accesses_on_one_namespace(redis_url, mirrors) as make:
        yield make


class Interrupted(BaseException):
    """Stands for whatever ends a sleeping thread: KeyboardInterrupt, SystemExit, gevent's
    GreenletExit."""


def queue_of(access, method="search/advanced"):
    """The Redis key of the callers waiting for `method`."""
    return access.limiter.shared._queue(method)


def flights(make_access, access, method="info"):
    """The calls of `method` Redis counts in flight on the first mirror."""
    state, _ = access.limiter.shared.keys[0]
    return make_access.redis.zcard(f"{state}:flight:{method}")


@pytest.mark.parametrize("stop", [Interrupted, KeyboardInterrupt])
def test_a_call_interrupted_before_its_reserved_slot_gives_it_back(mirrors, make_access,
                                                                     stop):
    url = [mirrors[0].base_url]

    def stopped(seconds):
        raise stop()

    access = make_access(urls=url, max_rate=Rate(1, 1), sleep=stopped)
    other = make_access(urls=url, max_rate=Rate(1, 1))  # another process
    shared = access.limiter.shared
    first = shared.acquire("info", [0])  # this second's call: the next caller is given a slot
    shared.release(first, "info", Outcome(ok=True, answered=True))
    with pytest.raises(stop):
        access.fetch("info", site="stackoverflow", max_wait=5)
    assert flights(make_access, access) == 0
    assert access.status().mirrors[0].in_flight == 0
    # The slot is free for the next caller: granted, not told the mirror is busy.
    got = other.limiter.shared.acquire("info", [0], max_delay=5)
    assert isinstance(got, Grant), got
    assert mirrors[0].stats()["requests"] == 0  # the interrupted call was never sent



def fetch_on_a_thread(access, **params):
    """`access.fetch` on a thread of its own; (thread, what it returned or raised)."""
    outcome = []

    def run():
        try:
            outcome.append(access.fetch("search/advanced", site="stackoverflow", **params))
        except BaseException as error:  # noqa: BLE001 (handed to the test)
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("waits_for", ["backoff", "busy"])
def test_stop_ends_a_call_waiting_for_its_slot_at_once_and_gives_its_place_back(
        mirrors, make_access, waits_for):
    url = [mirrors[0].base_url]
    access = make_access(urls=url)
    other = make_access(urls=url)  # another process
    grant = other.limiter.shared.acquire("search/advanced", [0])
    if waits_for == "backoff":  # a slot reserved 30 s ahead: the call sleeps until then
        other.limiter.release(grant, "search/advanced",
                              Outcome(ok=True, answered=True, backoff=30))
        waiting = lambda: flights(make_access, access, "search/advanced")  # noqa: E731
    else:  # the other process's call is in flight: the call waits in the method's queue
        waiting = lambda: make_access.redis.zcard(queue_of(access))  # noqa: E731
    thread, outcome = fetch_on_a_thread(access, q="waits", max_wait=60)
    wait_until(waiting, 5, f"the call to wait ({waits_for})")

    access.stop()

    thread.join(5)  # not the 30 s back-off, nor the other call's in-flight bound
    assert not thread.is_alive() and isinstance(outcome[0], Stopped), outcome
    assert mirrors[0].stats()["requests"] == 0
    assert not waiting()  # its reserved slot, or its place in the queue, given back
    with pytest.raises(Stopped):  # and no call starts after a stop
        access.fetch("info", site="stackoverflow")
    assert other.fetch("info", site="stackoverflow").items  # other processes go on


def test_stop_ends_a_wait_for_another_processs_call_of_the_same_question(mirrors, make_access):
    url = [mirrors[0].base_url]
    mirrors[0].configure(latency=30)
    leader, follower = make_access(urls=url, timeout=60), make_access(urls=url, timeout=60)
    fetch_on_a_thread(leader, q="slow", max_wait=60)
    wait_until(lambda: mirrors[0].stats()["requests"], 5, "the leader's call")
    thread, outcome = fetch_on_a_thread(follower, q="slow", max_wait=60)
    time.sleep(0.2)  # it follows the leader's call

    follower.stop()

    thread.join(5)
    assert not thread.is_alive() and isinstance(outcome[0], Stopped), outcome
    assert mirrors[0].stats()["requests"] == 1
    mirrors[0].configure(latency=0)

"""A call interrupted while it waits for its reserved slot (Ctrl-C, any BaseException)
gives the slot back at once, on the shared (Redis) limiter: the next caller need not wait
for the in-flight bound to run out."""

import pytest

from stackq.infra.settings import Rate
from stackq.stackexchange.policy import Grant, Outcome
from tests.support.access import accesses_on_one_namespace


@pytest.fixture
def make_access(redis_url, mirrors):
    with accesses_on_one_namespace(redis_url, mirrors) as make:
        yield make


class Interrupted(BaseException):
    """Stands for whatever ends a sleeping thread: KeyboardInterrupt, SystemExit, gevent's
    GreenletExit."""


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


"""One single-flight module serves the API client and the response cache."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from stackq.cache import flight as cache_flight
from stackq.cache import tween
from stackq.infra.flight import Flights, poll
from stackq.stackexchange import access, answers


def test_api_client_and_response_cache_share_one_module():
    assert access.Flights is tween.Flights is Flights
    assert answers.poll is cache_flight.poll is poll


def test_identical_calls_at_one_moment_run_once():
    flights, calls, joined, release = Flights(), [], [], threading.Event()

    def call():
        calls.append(1)
        release.wait(5)
        return "answer"

    with ThreadPoolExecutor(5) as pool:
        results = [pool.submit(flights.run, "k", call, lambda: joined.append(1))
                   for _ in range(5)]
        assert poll(lambda: (len(joined) == 4, True), timeout=5)
        release.set()
        assert [r.result(5) for r in results] == ["answer"] * 5
    assert calls == [1] and flights.running == {}


def test_followers_get_the_leaders_error():
    flights = Flights()
    flight, leader = flights.lead_or_follow("k")
    follower, led = flights.lead_or_follow("k")
    assert (leader, led, follower) == (True, False, flight)
    flights.land("k", flight, error=ValueError("upstream"))
    with pytest.raises(ValueError):
        flights.run("k2", lambda: (_ for _ in ()).throw(ValueError("upstream")))
    assert flight.done.is_set() and isinstance(flight.error, ValueError)


def test_poll_returns_what_the_look_found_or_none_at_the_timeout():
    looks = iter([(False, None), (False, None), (True, "entry")])
    assert poll(lambda: next(looks), timeout=5) == "entry"
    assert poll(lambda: (False, "never"), timeout=0.05) is None

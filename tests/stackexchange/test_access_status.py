"""/status says why calls wait: a back-off the API asked for, a hold after a broken one, the
slot of a call no one answered (a stopped or killed process's), a ban, the quota."""

import re
import time

import pytest

from stackq.infra.registry import API
from stackq.stackexchange import RateLimited
from stackq.stackexchange.policy import Outcome
from tests.support.access import accesses_on_one_namespace


@pytest.fixture
def make_access(redis_url, mirrors):
    with accesses_on_one_namespace(redis_url, mirrors) as make:
        yield make


def status_row(testapp, access):
    testapp.app.registry[API] = access
    return testapp.get("/status").html.select("table.mirrors tbody tr")[0]


def test_a_backoff_the_api_asked_for_and_a_hold_after_a_broken_one_read_apart(
        testapp, mirrors, make_access):
    access = make_access(urls=[mirrors[0].base_url])
    limiter = access.limiter
    asked = limiter.shared.acquire("search/advanced", [0])
    limiter.release(asked, "search/advanced", Outcome(ok=True, answered=True, backoff=3))
    broken = limiter.shared.acquire("questions", [0])
    limiter.release(broken, "questions", Outcome(answered=True, violation="backoff"))

    mirror = access.status().mirrors[0]

    assert set(mirror.backoff) == {"search/advanced", "questions"}
    assert mirror.held == {"questions"}
    spans = [re.sub(r"for [\d.]+ s", "for N s", " ".join(span.text.split()))
             for span in status_row(testapp, access).select(".backoff span")]
    assert spans == ["questions for N s (held: a back-off was broken)",
                     "search/advanced for N s (the API asked)"]


def test_the_slot_of_a_call_no_one_answered_shows_until_it_frees(testapp, mirrors,
                                                                  make_access):
    # A 0.5 s timeout: a call is overdue after 0.5 s, its slot held 2 s from its grant.
    access = make_access(urls=[mirrors[0].base_url], timeout=0.5)
    other = make_access(urls=[mirrors[0].base_url], timeout=0.5)  # another process
    access.limiter.shared.acquire("search/advanced", [0])  # then killed: never released
    assert access.status().mirrors[0].unanswered == {}  # not overdue yet: it may be answered
    time.sleep(0.6)

    mirror = other.status().mirrors[0]

    assert list(mirror.unanswered) == ["search/advanced"]
    assert 0 < mirror.unanswered["search/advanced"] < 1.5
    text = " ".join(status_row(testapp, other).select_one(".unanswered").text.split())
    assert text.startswith("search/advanced: its slot held ")
    assert text.endswith("more (a stopped or killed process's call)")
    with pytest.raises(RateLimited):  # the method waits for that slot on this mirror
        other.fetch("search/advanced", site="stackoverflow", q="x", max_wait=0)
    assert mirrors[0].stats()["requests"] == 0

"""A failing Stack Exchange API: a clear 502/503 page, stored results stay readable."""

import pytest

from tests.support.reading import shown_ids
from tests.support.searches import create_search

FAULTS = [
    ("500", 503),  # internal_error: the API says try later
    ("503", 503),
    ("garbage", 502),
    ("throttle", 502),
    ("reset", 503),
]


@pytest.mark.parametrize("fault, status", FAULTS)
def test_a_new_search_while_upstream_fails_is_a_clear_error_page(testapp, csrf, upstream, fault,
                                                                  status):
    upstream.set_fault(fault)
    answer = testapp.post("/queries", {"q": "python", "site": "stackoverflow",
                                       "csrf_token": csrf}, status=status)
    assert "Stack Exchange API failed" in answer.html.find("h1").text
    assert "Try again" in answer.html.select_one(".error").text
    assert "Traceback" not in answer.text
    upstream.set_fault(None)
    # Nothing half-made was kept: the list of searches is still empty.
    assert testapp.get("/").html.select("table.searches tbody tr") == []


def test_an_upstream_timeout_is_503(testapp, csrf, upstream):
    upstream.set_fault("timeout", count=1)
    answer = testapp.post("/queries", {"q": "python", "csrf_token": csrf}, status=503)
    assert "Stack Exchange API failed" in answer.text


@pytest.mark.parametrize("fault, status", FAULTS)
def test_stored_results_stay_readable_while_upstream_fails(testapp, csrf, upstream, fault,
                                                           status):
    search = create_search(testapp, csrf)
    stored = shown_ids(testapp.get(f"/queries/{search}", {"per_page": 100}))
    upstream.set_fault(fault)
    for query in [{}, {"page": 2}, {"per_page": 50, "page": 2}, {"sort": "title"},
                  {"sort": "views", "order": "asc"}]:
        page = testapp.get(f"/queries/{search}", query)
        assert page.status_int == 200
        assert set(shown_ids(page)) <= set(stored)
    # A page that is not stored needs the API: that one fails, clearly.
    answer = testapp.get(f"/queries/{search}", {"page": 5}, status=status)
    assert "results already stored stay readable" in answer.text
    assert testapp.get("/").status_int == 200


def test_a_page_that_failed_upstream_works_once_upstream_is_back(testapp, csrf, upstream):
    search = create_search(testapp, csrf)
    upstream.set_fault("500", count=1)
    testapp.get(f"/queries/{search}", {"sort": "votes"}, status=503)
    page = testapp.get(f"/queries/{search}", {"sort": "votes"})
    expected = [q["question_id"] for q in upstream.search("stackoverflow", q="python",
                                                          sort="votes")[:25]]
    assert shown_ids(page) == expected


def test_a_used_up_daily_quota_says_when_it_renews(testapp, csrf, upstream):
    upstream.configure(quota=3)
    search = create_search(testapp, csrf)  # the total: two calls (its filter made, then used)
    testapp.get(f"/queries/{search}")  # page 1: the last call of the day
    answer = testapp.get(f"/queries/{search}", {"page": 5}, status=503)
    assert "Daily API quota used up" in answer.html.find("h1").text
    assert "renews at 00:00 UTC" in answer.text
    assert answer.headers["Retry-After"].isdigit()
    # What was stored before stays readable.
    assert testapp.get(f"/queries/{search}").status_int == 200

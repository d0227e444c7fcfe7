"""Pausing a saved search: the refresher spends no call on it until it is resumed, every page
says so, and its "Refresh now" says it is paused rather than queueing calls.

On a stack of the module's own (tests/support/stack.py): requests commit for real, so the
after-commit hook drops the cached pages as it does in production.
"""

import threading

from sqlalchemy import select

from stackq.models import SearchResult
from stackq.refresh.state import reread_chunks, search_states, site_states
from stackq.tasks.worker import TaskWorker
from tests.support.manage import calls_for, is_paused, pause, resume
from tests.support.reading import page_forms
from tests.support.refresh_cycles import ONLY_SEARCHES, run_cycle
from tests.support.tasks import feature_kinds, load_task, queue_task

# With a key every cycle can refresh every search: what is left out is left out for pausing.
STACK_SETTINGS = {"stackq.api.key": "manage-tests"}


def test_a_paused_search_costs_no_call_and_a_resumed_one_is_refreshed_again(clean, upstream,
                                                                             browser):
    paused, other = clean.save_search("asyncio"), clean.save_search("django")
    pause(browser, paused)
    before = calls_for(upstream, "asyncio"), calls_for(upstream, "django")

    report = run_cycle(clean, settings=ONLY_SEARCHES)

    assert report.plan.searches == [other]
    assert calls_for(upstream, "asyncio") == before[0]
    assert calls_for(upstream, "django") > before[1]

    resume(browser, paused)
    report = run_cycle(clean, settings=ONLY_SEARCHES)
    assert paused in report.plan.searches
    assert calls_for(upstream, "asyncio") > before[0]


def test_the_quota_plan_gives_a_paused_searchs_share_to_the_others(clean, browser):
    ids = [clean.save_search(q) for q in ("asyncio", "django", "sqlalchemy")]
    pause(browser, ids[0])
    with clean.session() as dbsession:
        assert [s.id for s in search_states(dbsession)] == ids[1:]


def test_questions_only_a_paused_search_stores_are_re_read_no_more(clean, browser):
    paused, other = clean.save_search("asyncio"), clean.save_search("django")
    with clean.session() as dbsession:
        both = {site.site_id: site.distinct for site in site_states(dbsession)}
        others = set(dbsession.scalars(select(SearchResult.question_id)
                                       .where(SearchResult.search_id == other)))
    pause(browser, paused)
    with clean.session() as dbsession:
        [site] = site_states(dbsession)
        [chunk] = reread_chunks(dbsession, site.site_id, 10)
    assert site.distinct == len(others) < both[site.site_id]
    assert {pk for pk, _ in chunk} == others


def test_home_and_results_show_it_paused_once_the_cached_pages_are_dropped(clean, browser):
    search_id = clean.save_search("asyncio")
    browser.get("/")
    assert browser.get("/").headers["X-Cache"] == "HIT"
    browser.get(f"/queries/{search_id}")

    answer = pause(browser, search_id, back="home")

    assert answer.location.endswith("/")
    home = browser.get("/")
    assert home.headers["X-Cache"] == "MISS"
    row = home.html.find("tr", attrs={"data-query-id": str(search_id)})
    assert "Paused" in row.text
    assert row.find("form")["action"].endswith(f"/queries/{search_id}/resume")
    results = browser.get(f"/queries/{search_id}")
    assert results.headers["X-Cache"] == "MISS"
    assert "Paused:" in results.text
    assert results.html.find("form", class_="refresh-now") is None
    assert results.html.find("form", class_="resume")["action"].endswith("/resume")

    assert resume(browser, search_id).location.endswith(f"/queries/{search_id}")
    results = browser.get(f"/queries/{search_id}")
    assert results.html.find("form", class_="refresh-now") is not None
    assert results.html.find("form", class_="pause") is not None


def test_pausing_without_the_token_changes_nothing_and_asks_to_confirm(clean, browser):
    search_id = clean.save_search("asyncio")
    page = browser.post(f"/queries/{search_id}/pause", {"back": "home"}, status=200)
    assert not is_paused(clean, search_id)
    assert page.headers["Cache-Control"] == "no-store"
    form = page_forms(page)[0]
    assert form.action.endswith(f"/queries/{search_id}/pause")
    assert form["back"].value == "home"
    assert form.submit(status=303).location.endswith("/")
    assert is_paused(clean, search_id)


def test_refresh_now_of_a_paused_search_says_so_and_queues_nothing(clean, upstream, browser):
    search_id = clean.save_search("asyncio")
    pause(browser, search_id)
    calls = upstream.stats()["requests"]

    page = browser.post(f"/queries/{search_id}/refresh", {"csrf_token": browser.token},
                        status=409)
    assert "paused" in page.text
    answer = browser.post_json("/api/tasks", {"kind": "refresh", "query_id": search_id},
                               status=422)
    assert "is paused" in answer.json["errors"][0]["message"]
    assert browser.get("/api/tasks").json["tasks"] == []
    assert upstream.stats()["requests"] == calls


def test_pausing_a_search_that_does_not_exist_is_a_404(clean, browser):
    browser.post("/queries/999999/pause", {"csrf_token": browser.token}, status=404)


def test_a_refresh_task_queued_before_the_pause_fails_saying_so_without_a_call(clean, upstream,
                                                                                browser):
    search_id = clean.save_search("asyncio")
    task_id = queue_task(clean, "refresh", {"query_id": search_id})
    pause(browser, search_id)
    calls = upstream.stats()["requests"]
    worker = TaskWorker(clean.session_factory, clean.api, clean.redis, threading.Event(),
                        kinds=feature_kinds())

    assert worker.run_next()

    task = load_task(clean, task_id)
    assert (task.state, task.error) == ("failed", f"saved search {search_id} is paused: "
                                                  "resume it to refresh it")
    assert upstream.stats()["requests"] == calls

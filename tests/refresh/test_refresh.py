"""Refresh cycles against the emulator over HTTP, on a database and Redis of their own."""

import signal

import pytest
from sqlalchemy import func, select

from stackq.models import Question, RefreshRun, SavedSearch, SearchPosition, SearchResult
from stackq.refresh.cycle import LOCK_KEY, RefreshCycle, seconds_until_due
from stackq.refresh.plan import Quota, next_midnight
from stackq.stackexchange import ApiAccess, RateLimited
from tests.support.events import published
from tests.support.refresh_cycles import (
    ONLY_SEARCHES,
    TOPICS,
    run_cycle,
    slow_cycle_started,
    stored_page_one,
    top_ids,
)
from tests.support.stack import run_refresher, start_refresher
from tests.support.waiting import wait_until

# With a key (10,000 calls a day) every cycle refreshes every search: these tests are
# about cycles, locks and signals; tests/refresh/test_refresh_quota.py is about the quota.
STACK_SETTINGS = {"stackq.api.key": "refresh-tests"}


def notices(pubsub, timeout=2.0):
    """Every query_updated published within `timeout` s, by query id."""
    return {event["query_id"]: event for event in published(pubsub, "query_updated", timeout)}


def test_cycle_stores_new_and_changed_and_announces_the_counts(clean, upstream, events):
    """One call asks what changed (deletions wait for the re-read:
    tests/refresh/test_refresh_quota.py)."""
    search_id = clean.save_search("asyncio")
    before = top_ids(upstream, q="asyncio")
    assert stored_page_one(clean, search_id) == before
    mutated = upstream.mutate("stackoverflow", "asyncio", new=3, changed=5)
    after = top_ids(upstream, q="asyncio")
    calls = upstream.stats()["requests"]

    report = run_cycle(clean)

    assert (report.state, report.searches, report.errors) == ("finished", 1, 0)
    assert report.calls == upstream.stats()["requests"] - calls == report.plan.calls
    assert report.changes == 8
    assert stored_page_one(clean, search_id) == after
    with clean.session() as dbsession:
        stored = set(dbsession.scalars(
            select(Question.question_id).join(SearchResult,
                                              SearchResult.question_id == Question.id)
            .where(SearchResult.search_id == search_id)))
        titles = dict(dbsession.execute(
            select(Question.question_id, Question.title)
            .where(Question.question_id.in_(mutated["changed"]))).all())
        search = dbsession.get(SavedSearch, search_id)
        assert search.total == len(upstream.search("stackoverflow", q="asyncio"))
    assert set(mutated["new"]) <= stored
    # The questions pushed down to page 2 are still stored results, not "removed".
    assert set(before) - set(after) <= stored
    assert all("(edit" in title for title in titles.values())
    notice = notices(events)[search_id]
    assert notice == {"type": "query_updated", "query_id": search_id, "q": "asyncio",
                      "site": "stackoverflow", "new": 3, "changed": 5, "removed": 0,
                      "at": notice["at"]}
    assert notice["at"].endswith("Z") and len(notice["at"]) == 20


def test_unchanged_searches_are_refreshed_silently(clean, events):
    clean.save_search("asyncio")
    report = run_cycle(clean)
    assert (report.searches, report.changes) == (1, 0)
    assert notices(events, timeout=0.5) == {}


def test_a_question_in_two_searches_is_changed_for_each(clean, upstream, events):
    by_text = clean.save_search("pyramid")
    by_tag = clean.save_search(tagged="pyramid")
    mutated = upstream.mutate("stackoverflow", "pyramid", changed=2)
    in_both = set(top_ids(upstream, q="pyramid")) & set(top_ids(upstream, tagged="pyramid"))
    assert set(mutated["changed"]) <= in_both

    report = run_cycle(clean, workers=1)

    assert (report.searches, report.changes) == (2, 4)
    found = notices(events)
    assert [found[by_text]["changed"], found[by_tag]["changed"]] == [2, 2]


def test_a_search_the_api_failed_is_tried_again_later_in_the_cycle(clean, upstream):
    first, second = clean.save_search("django"), clean.save_search("sqlalchemy")
    upstream.mutate("stackoverflow", "sqlalchemy", changed=1)
    upstream.set_fault("500", count=1)  # the first call of the cycle: "django"'s page

    report = run_cycle(clean, workers=1, settings=ONLY_SEARCHES)

    # django failed, sqlalchemy was refreshed, then django again: one call each time (what
    # changed; totals are counted once per full_every).
    assert (report.state, report.searches, report.errors, report.changes, report.calls) == (
        "finished", 2, 0, 1, 3)
    with clean.session() as dbsession:
        refreshed = dict(dbsession.execute(select(SavedSearch.id, SavedSearch.refreshed_at)).all())
    assert refreshed[first] > refreshed[second]


def test_an_upstream_error_that_persists_is_counted_and_the_cycle_goes_on(clean, upstream):
    clean.save_search("django")
    clean.save_search("sqlalchemy")
    upstream.set_fault("500")

    report = run_cycle(clean, workers=1, settings=ONLY_SEARCHES)

    # Each search tried twice, one call each time (its first page failed).
    assert (report.state, report.searches, report.errors, report.calls) == ("finished", 0, 2, 4)


def test_the_refresher_waits_out_a_backoff_longer_than_a_web_request_would(clean, upstream):
    clean.save_search("asyncio")
    clean.save_search("django")
    upstream.configure(backoff={"search/advanced": 2})
    api = ApiAccess([upstream.base_url], timeout=2, redis=clean.redis, max_wait=0.5, cache_ttl=0)

    report = RefreshCycle(clean.session_factory, api, workers=1,
                          quota=lambda now: Quota(10000, 10000, next_midnight(now)),
                          settings=ONLY_SEARCHES).run()

    # One search's call, then the other's 2 s later: a background caller waits for its slot.
    assert (report.searches, report.errors, report.calls) == (2, 0, 2)
    assert upstream.stats()["violations"] == 0
    # ...where a visitor's call, in the back-off the last answer set, gives up after max_wait.
    with pytest.raises(RateLimited):
        api.fetch("search/advanced", site="stackoverflow", q="asyncio", page=2)


def test_refresh_once_runs_a_cycle_then_skips_until_due(clean):
    clean.save_search("asyncio")
    done = run_refresher(clean.ini, "--once")
    assert done.returncode == 0, done.stderr
    assert "finished" in done.stdout and "1 searches, " in done.stdout
    again = run_refresher(clean.ini, "--once")
    assert again.returncode == 0, again.stderr
    assert "no refresh cycle: a cycle ran recently" in again.stdout
    with clean.session() as dbsession:
        assert dbsession.scalar(select(func.count()).select_from(RefreshRun)) == 1
        assert seconds_until_due(dbsession, 600) > 500


def test_two_refreshers_started_together_run_one_cycle(clean, tmp_path):
    clean.save_search("asyncio")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [start_refresher(clean.ini, "--interval", "60", log_path=log) for log in logs]
    try:
        # Each has decided: one ran the cycle, the other found it running or just run.
        wait_until(lambda: all("next cycle in" in log.read_text() for log in logs), 30,
                   "both refreshers to schedule their next cycle")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(10) for proc in procs]
    assert codes == [0, 0], [log.read_text() for log in logs]
    with clean.session() as dbsession:
        runs = dbsession.execute(select(RefreshRun.state)).scalars().all()
    assert runs == ["finished"]
    assert not any("Traceback" in log.read_text() for log in logs)


def test_sigterm_finishes_the_search_under_way_and_exits_0(clean, upstream, tmp_path):
    log = tmp_path / "stopped.log"
    proc, _ = slow_cycle_started(clean, upstream, log, "--interval", "600")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0, log.read_text()
    upstream.configure(backoff=None)
    with clean.session() as dbsession:
        run = dbsession.scalars(select(RefreshRun)).one()
        refreshed = dbsession.scalar(select(func.count()).select_from(SavedSearch).where(
            SavedSearch.refreshed_at >= run.started_at))
    assert run.state == "stopped" and run.finished_at is not None
    assert 1 <= run.searches < len(TOPICS)
    # Counted searches are exactly the stored ones: none half-done, none lost.
    assert (refreshed, run.changes) == (run.searches, run.searches)
    assert "Traceback" not in log.read_text()


def test_kill_9_mid_cycle_loses_and_duplicates_nothing(clean, upstream, tmp_path):
    topics = TOPICS
    proc, ids = slow_cycle_started(clean, upstream, tmp_path / "killed.log", "--once", "--force")
    proc.kill()
    proc.wait(10)
    upstream.configure(backoff=None)
    wait_until(lambda: not clean.redis.exists(LOCK_KEY), 10, "the dead refresher's lock to expire")

    done = run_refresher(clean.ini, "--once", "--force")

    assert done.returncode == 0, done.stderr
    with clean.session() as dbsession:
        killed, last = dbsession.scalars(select(RefreshRun).order_by(RefreshRun.id)).all()
        assert 1 <= killed.searches < len(topics)
        assert (killed.state, killed.finished_at) == ("interrupted", None)
        assert (last.state, last.searches, last.errors) == ("finished", len(topics), 0)
        # Each search's one change counted once: by the killed cycle or by the next.
        assert killed.changes + last.changes == len(topics)
        positions = dbsession.execute(
            select(SearchPosition.search_id, func.count(), func.count(
                SearchPosition.question_id.distinct())).group_by(SearchPosition.search_id)).all()
        assert all(count == distinct for _, count, distinct in positions)
    for search_id, q in zip(ids, topics, strict=True):
        assert stored_page_one(clean, search_id) == top_ids(upstream, q=q)


def test_every_cycle_drops_the_cached_pages_that_list_searches(clean, events):
    """`/` shows the last cycle and each search's refresh time, even when nothing changed."""
    clean.save_search("asyncio")
    run_cycle(clean)
    dropped = []
    for event in published(events, "cache_invalidated", 2):
        dropped.append(event["query_ids"])
        if event["query_ids"] == []:
            break
    # The search's own pages (it was refreshed just now), then the pages listing searches.
    assert dropped[-1] == []

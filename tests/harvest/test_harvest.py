"""The harvest service (`run_harvest`) against the emulator, on a database and Redis of its own.

Harvests commit page by page, so they run on their own stack (tests/support/stack.py), never
on the suite's rolled-back session.
"""

import dataclasses
import hashlib
import json

import pytest
from sqlalchemy import select

from stackq.cache.store import search_generation
from stackq.harvest.service import HarvestRequest, run_harvest
from stackq.infra.settings import Rate
from stackq.models import Question, SavedSearch
from stackq.searches.ingest import UPSTREAM_PAGE_SIZE
from stackq.searches.results import results_page
from stackq.searches.saved import SearchInputError
from stackq.stackexchange import ApiAccess, UpstreamError, api_access_from_settings
from stackq.testing.emulator import HOSTILE_TITLES
from tests.support.harvest import AskedPages, search_id, stored_order, stored_pages

FOUR_TAGS = "python;javascript;sql;linux"  # 2,620 results: more than 25 pages


@pytest.fixture
def asked(upstream):
    spy = AskedPages(upstream)
    yield spy
    spy.remove()


def harvest(stack, api=None, **request):
    request.setdefault("site", "stackoverflow")
    request.setdefault("q", "")
    pages = []
    result = run_harvest(stack.session_factory, api or stack.api, HarvestRequest(**request),
                         on_page=pages.append)
    return result, pages


def upstream_ids(upstream, count, **search):
    return [item["question_id"] for item in upstream.search("stackoverflow", **search)[:count]]


def test_pages_go_into_the_saved_search_the_web_app_shows(clean, upstream, asked):
    result, pages = harvest(clean, q="python", max_pages=3)

    assert (result.pages, result.first_page, result.last_page, result.stopped) == (3, 1, 3, "done")
    # The total's filter made (stackexchange/filters.py), the total, then 3 pages.
    assert (result.new, result.updated, result.calls) == (300, 0, 5)
    assert asked.pages == [1, 2, 3]
    assert [(p.page, p.done, p.planned, p.questions) for p in pages] == [
        (1, 1, 3, 100), (2, 2, 3, 100), (3, 3, 3, 100)]
    # 5 calls of the quota: the total filter made, the total, 3 pages.
    assert pages[-1].quota_remaining == result.quota_remaining == 295
    order = stored_order(clean, result.query_id)
    assert [pos for pos, _ in order] == list(range(1, 301))
    assert [qid for _, qid in order] == upstream_ids(upstream, 300, q="python")
    # The web app's page 2 is served from what the harvest stored: no upstream call.
    asked.clear()
    with clean.session() as dbsession:
        search = dbsession.get(SavedSearch, result.query_id)
        shown = results_page(dbsession, clean.api, search, 2, UPSTREAM_PAGE_SIZE, "activity",
                             "desc")
        titles = {q.question_id: q.title for q in shown.questions}
    assert asked.requests == []
    assert [q for q in titles] == upstream_ids(upstream, 200, q="python")[100:]


def test_hostile_titles_are_stored_decoded(clean):
    harvest(clean, q="python", max_pages=1)
    with clean.session() as dbsession:
        titles = set(dbsession.scalars(select(Question.title)))
    assert set(HOSTILE_TITLES.values()) <= titles


def test_resume_asks_only_the_pages_after_the_last_stored(clean, upstream, asked):
    first, _ = harvest(clean, q="python", max_pages=3)
    asked.clear()

    again, pages = harvest(clean, q="python", max_pages=2, resume=True)

    assert asked.pages == [4, 5] and asked.requests == [("4", "withbody"), ("5", "withbody")]
    assert (again.query_id, again.first_page, again.last_page, again.calls) == (
        first.query_id, 4, 5, 2)
    assert [(p.page, p.done, p.planned) for p in pages] == [(4, 1, 2), (5, 2, 2)]
    assert stored_pages(clean, first.query_id) == [1, 2, 3, 4, 5]
    assert [qid for _, qid in stored_order(clean, first.query_id)] == upstream_ids(
        upstream, 500, q="python")


def test_without_resume_it_starts_at_page_one_and_counts_new_and_updated(clean, upstream,
                                                                          asked):
    harvest(clean, q="python", max_pages=2)
    upstream.mutate("stackoverflow", "python", new=2, changed=5)
    asked.clear()

    again, pages = harvest(clean, q="python", max_pages=1)

    assert asked.pages == [1]
    assert (again.new, again.updated) == (2, 5)
    assert (pages[0].new, pages[0].updated, pages[0].questions) == (2, 5, 100)


def test_it_stops_at_the_last_page_and_a_resume_then_calls_nothing(clean, asked):
    result, pages = harvest(clean, q="asyncio", max_pages=10)  # 300 results

    assert (result.pages, result.stopped) == (3, "end")
    assert [p.planned for p in pages] == [3, 3, 3]
    asked.clear()
    again, _ = harvest(clean, q="asyncio", max_pages=10, resume=True)
    assert (again.pages, again.stopped, again.calls) == (0, "end", 0)
    assert asked.requests == []


def test_without_a_key_page_26_is_not_asked_and_the_harvest_says_a_key_is_needed(clean,
                                                                                 asked):
    result, pages = harvest(clean, tagged=FOUR_TAGS, max_pages=30)

    assert (result.pages, result.last_page, result.stopped) == (25, 25, "key_needed")
    assert asked.pages == list(range(1, 26))
    assert {p.planned for p in pages} == {25}
    asked.clear()
    again, _ = harvest(clean, tagged=FOUR_TAGS, max_pages=5, resume=True)
    assert (again.pages, again.stopped, again.calls) == (0, "key_needed", 0)
    assert asked.requests == []


def test_a_rerun_within_the_cache_ttl_makes_no_upstream_call(clean, asked):
    settings = dataclasses.replace(clean.settings, api_cache_ttl=600)
    cached = api_access_from_settings(settings, redis=clean.redis)
    harvest(clean, api=cached, q="python", max_pages=3)
    asked.clear()

    again, _ = harvest(clean, api=cached, q="python", max_pages=3)

    assert asked.requests == []
    assert (again.pages, again.calls) == (3, 3)  # asked of the access layer, answered by Redis


def test_json_dir_holds_each_pages_items(clean, tmp_path):
    result, _ = harvest(clean, q="python", max_pages=2, json_dir=str(tmp_path))

    folder = tmp_path / hashlib.md5(b"stackoverflowpythonactivity").hexdigest()
    assert sorted(p.name for p in folder.iterdir()) == ["page_1.json", "page_2.json"]
    items = [json.loads((folder / f"page_{n}.json").read_text()) for n in (1, 2)]
    stored = [qid for _, qid in stored_order(clean, result.query_id)]
    assert [item["question_id"] for page in items for item in page] == stored


def test_every_commit_drops_the_searchs_cached_pages(clean):
    generations = []

    def on_page(done):
        generations.append(int(clean.redis.get(search_generation(query_id))))

    harvest(clean, q="django", max_pages=1)  # creates the search
    query_id = search_id(clean, q="django")
    run_harvest(clean.session_factory, clean.api,
                HarvestRequest(q="django", site="stackoverflow", max_pages=2), on_page=on_page)
    assert len(generations) == 2 and generations[1] == generations[0] + 1


def test_pages_stored_before_an_upstream_error_stay_and_a_resume_continues(clean, upstream,
                                                                            asked):
    def fail_after_page_2(done):
        if done.page == 2:
            upstream.set_fault("500")

    with pytest.raises(UpstreamError):
        run_harvest(clean.session_factory, clean.api,
                    HarvestRequest(q="python", site="stackoverflow", max_pages=5),
                    on_page=fail_after_page_2)
    upstream.set_fault(None)
    query_id = search_id(clean, q="python")
    assert stored_pages(clean, query_id) == [1, 2]
    asked.clear()
    again, _ = harvest(clean, q="python", max_pages=3, resume=True)
    assert asked.pages == [3, 4, 5]
    assert stored_pages(clean, query_id) == [1, 2, 3, 4, 5]


def test_should_stop_ends_the_harvest_before_the_next_page(clean, asked):
    done = []
    result = run_harvest(clean.session_factory, clean.api,
                         HarvestRequest(q="python", site="stackoverflow", max_pages=5),
                         on_page=done.append, should_stop=lambda: len(done) >= 2)
    assert (result.pages, result.stopped) == (2, "interrupted")
    assert asked.pages == [1, 2]


def test_on_wait_hears_of_a_call_waiting_for_its_slot(clean):
    slow = ApiAccess([clean.api_url], redis=clean.redis, max_rate=Rate(1, 1), timeout=2,
                     cache_ttl=0)
    waits = []
    run_harvest(clean.session_factory, slow,
                HarvestRequest(q="python", site="stackoverflow", max_pages=3),
                on_wait=waits.append)
    assert waits and waits[0] == 0.5 and all(w > 0 for w in waits)


@pytest.mark.parametrize("request_args, error", [
    ({"sort": "title"}, ValueError),
    ({"max_pages": 0}, ValueError),
    ({"site": "nosuchsite"}, SearchInputError),
    ({"q": "   "}, SearchInputError),
])
def test_requests_it_cannot_serve_fail_before_any_page(clean, asked, request_args, error):
    with pytest.raises(error):
        harvest(clean, **{"q": "python", **request_args})
    assert asked.pages == []

"""The question page through the response cache: kept like a results page, dropped when a
search changes (a refresh that changed the question), never kept without its answers."""

import pytest

from stackq.cache import invalidate_searches
from stackq.testing.emulator_data import HOSTILE_QUESTION_IDS
from tests.support.apps import visitor
from tests.support.searches import save_search, search_id
from tests.support.waiting import wait_until

PAGE = f"/questions/stackoverflow/{HOSTILE_QUESTION_IDS['quotes']}"


@pytest.fixture
def browser(capp, fresh_cache, tm, dbsession, upstream):
    return visitor(capp, tm, dbsession)


@pytest.fixture
def results(browser):
    path = save_search(browser, "python")
    browser.get(path)  # its questions stored
    return path


def x_cache(response):
    return response.headers.get("X-Cache")


def test_the_question_page_is_cached_and_dropped_when_a_search_changes(browser, results,
                                                                      cache_redis):
    first = browser.get(PAGE)
    assert x_cache(first) == "MISS", dict(first.headers)
    # A HIT from the next opens on (a render is not kept while the drops the search's own
    # commits published are still on their way to this process).
    wait_until(lambda: x_cache(browser.get(PAGE)) == "HIT", 5, "a cache hit")
    assert browser.get(PAGE).body == first.body
    assert invalidate_searches(cache_redis.client(), [search_id(results)]) is True
    # This process's own copy goes when the drop published reaches it, a moment later.
    wait_until(lambda: x_cache(browser.get(PAGE)) == "MISS", 5, "the page dropped")


def test_a_page_without_its_answers_is_not_kept(browser, results, upstream):
    upstream.set_fault("500")
    try:
        assert browser.get(PAGE).html.select_one(".answers-missing")
    finally:
        upstream.set_fault(None)
    # Rendered again (this process passes the page by for a while: hit-for-pass), answers in.
    again = browser.get(PAGE)
    assert x_cache(again) != "HIT" and again.html.select_one(".answers-missing") is None
    assert again.html.select("article.answer")


def test_answers_fetched_on_a_first_open_drop_the_cached_search_pages(browser, results):
    search = "/search?q=python"
    assert x_cache(browser.get(search)) == "MISS"
    wait_until(lambda: x_cache(browser.get(search)) == "HIT", 5, "a cache hit")
    browser.get(PAGE)  # its answers fetched and stored: the archive holds more words now
    wait_until(lambda: x_cache(browser.get(search)) == "MISS", 5, "the search page dropped")

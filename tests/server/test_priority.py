"""Which requests the server lets in first: static files, and pages the response cache
answered lately in this process (stackq/server/priority.py), on the real app and a real Redis."""

import pytest

from stackq.cache import invalidate_searches, store
from stackq.infra.registry import QUICK_REQUEST, RESPONSE_CACHE
from stackq.server.handler import is_quick_request
from tests.support.apps import quick, request_environ, visitor
from tests.support.searches import save_search, search_id

HOST = "example.com"  # the visitor's Host: a hint is for the page as it was asked for


@pytest.fixture
def browser(capp, fresh_cache, tm, dbsession, upstream):
    return visitor(capp, tm, dbsession, host=HOST)


def asked(path, **kwargs):
    return request_environ(path, host=HOST, **kwargs)


def test_files_of_every_static_view_are_quick_and_pages_are_not_at_first(capp, browser):
    assert quick(capp, "/static/stackq.css") and quick(capp, "/api/docs/static/swagger-ui.css")
    assert not quick(capp, "/") and not quick(capp, "/queries/new")


def test_a_page_is_quick_once_the_cache_answered_it(capp, browser):
    results = save_search(browser, "python")
    assert not quick(capp, results)
    assert browser.get(results).headers["X-Cache"] == "MISS"  # rendered and stored
    assert quick(capp, results)
    assert browser.get(results).headers["X-Cache"] == "HIT"
    assert quick(capp, results)
    # Only that request: another page of it, a hard reload or a POST is not known quick.
    assert not quick(capp, results + "?page=2")
    assert not quick(capp, results, method="POST")
    assert not capp.registry[QUICK_REQUEST](asked(results, **{"Cache-Control": "no-cache"}))


def test_a_page_dropped_by_a_change_of_its_search_stays_quick(capp, browser):
    results = save_search(browser, "python")
    home = "/"
    browser.get(results)
    browser.get(home)
    assert quick(capp, results) and quick(capp, home)
    # The refresher changed this search: its pages and the listings are dropped everywhere
    # (this process's copies at once, not when the event comes round), and the next
    # request renders each once and stores it again.
    cache = capp.registry[RESPONSE_CACHE]
    assert invalidate_searches(cache.redis, [search_id(results)])
    cache.on_event({"type": store.EVENT_TYPE, "query_ids": [search_id(results)]})
    assert quick(capp, results) and quick(capp, home)
    assert [browser.get(path).headers["X-Cache"] for path in (results, home)] == ["MISS"] * 2
    assert quick(capp, results) and quick(capp, home)


def test_a_page_never_stored_is_never_quick(capp, browser):
    token_page = "/queries/new"  # holds the visitor's CSRF token: never kept
    browser.get(token_page)
    browser.get(token_page)
    assert not quick(capp, token_page)


def test_with_the_cache_off_only_static_files_are_quick(app):
    assert app.registry[QUICK_REQUEST](asked("/static/stackq.css"))
    assert not app.registry[QUICK_REQUEST](asked("/"))


def test_the_server_asks_the_app_it_serves(capp, app):
    assert is_quick_request(capp, asked("/static/stackq.css"))
    assert not is_quick_request(capp, asked("/tasks"))
    # Another WSGI app (no registry, or one without stackq's answer): nothing is quick.
    assert not is_quick_request(lambda environ, start_response: [], asked("/static/x.css"))
    assert not is_quick_request(type("App", (), {"registry": {}})(), asked("/static/x.css"))

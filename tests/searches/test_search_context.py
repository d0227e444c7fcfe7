"""The pages of one saved search find it in their route's context: one 404 for a missing one."""

import pytest
from pyramid.httpexceptions import HTTPNotFound
from pyramid.testing import DummyRequest

from stackq.searches.resources import SavedSearchContext
from tests.support.searches import create_search


@pytest.mark.parametrize("method, path, params", [
    ("get", "/queries/999999", {}),
    ("get", "/queries/999999", {"page": "abc", "sort": "nope"}),
    ("get", "/queries/999999/export.csv", {}),
    ("get", "/queries/999999/export.json", {"sort": "sideways"}),
    ("post", "/queries/999999/refresh", {}),
    ("post", "/queries/999999/refresh", {"csrf_token": "stale"}),
])
def test_every_page_of_a_missing_search_is_the_same_404(testapp, method, path, params):
    answer = getattr(testapp, method)(path, params, status=404)
    assert "there is no saved search 999999" in answer.html.select_one(".error").text


def test_a_missing_search_queues_no_refresh(testapp, csrf):
    testapp.post("/queries/999999/refresh", {"csrf_token": csrf}, status=404)
    assert testapp.get("/api/tasks").json["tasks"] == []


def test_a_missing_search_is_a_404_when_a_view_asks_for_it(dbsession):
    context = SavedSearchContext(DummyRequest(matchdict={"id": "999999"}, dbsession=dbsession))
    assert context.id == 999999
    with pytest.raises(HTTPNotFound, match="there is no saved search 999999"):
        context.search  # noqa: B018
    with pytest.raises(HTTPNotFound, match="there is no saved search 999999"):
        context.shown()


def test_the_context_has_the_search_its_id_names(testapp, csrf, dbsession):
    search_id = create_search(testapp, csrf, q="asyncio")
    context = SavedSearchContext(DummyRequest(matchdict={"id": str(search_id)},
                                              dbsession=dbsession))
    assert (context.search.id, context.search.q) == (search_id, "asyncio")
    assert context.search is context.search  # read once
    shown = context.shown(("activity", "desc", 1))
    assert (shown.id, shown.q, type(shown.page_stored)) == (search_id, "asyncio", bool)

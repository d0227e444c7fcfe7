"""Deleting a saved search: a confirmation page, then a CSRF-checked POST (or the JSON API's
DELETE) that removes the search and every row of it but never its questions, drops its cached
pages, cancels its waiting refresh tasks, and leaves no call for it in the next cycle."""

import pytest
from sqlalchemy import func, select

from stackq.harvest.service import HarvestRequest, run_harvest
from stackq.models import (
    FetchedPage,
    Question,
    SavedSearch,
    SearchPosition,
    SearchResult,
    ShownQuestion,
    new_transaction,
)
from stackq.searches.manage import SearchDeleted, delete_search, rows_of_search
from tests.support.manage import calls_for
from tests.support.reading import page_forms
from tests.support.refresh_cycles import ONLY_SEARCHES, run_cycle
from tests.support.tasks import load_task, queue_task

STACK_SETTINGS = {"stackq.api.key": "manage-tests"}
OWNED = (SearchResult, SearchPosition, FetchedPage, ShownQuestion)


def rows_of(stack, search_id):
    """{table: rows of the search} over every table that holds rows of one search."""
    with stack.session() as dbsession:
        return {model.__tablename__: dbsession.scalar(
            select(func.count()).select_from(model).where(model.search_id == search_id))
            for model in OWNED}


def stored_questions(stack, search_id):
    with stack.session() as dbsession:
        return set(dbsession.scalars(select(SearchResult.question_id)
                                     .where(SearchResult.search_id == search_id)))


def questions_left(stack, pks):
    with stack.session() as dbsession:
        return set(dbsession.scalars(select(Question.id).where(Question.id.in_(pks))))


def test_every_table_of_a_search_is_removed_with_it():
    """Derived from the foreign keys: a table added later (a history) goes too."""
    assert {table.name for table, _ in rows_of_search()} >= {m.__tablename__ for m in OWNED}


def test_delete_confirms_then_removes_the_search_keeping_its_questions(clean, upstream, browser):
    gone, kept = clean.save_search("asyncio"), clean.save_search("django")
    run_cycle(clean, settings=ONLY_SEARCHES)  # what each showed is remembered
    assert all(rows_of(clean, gone).values())
    questions = stored_questions(clean, gone)
    assert browser.get(f"/queries/{gone}").headers["X-Cache"] == "MISS"
    assert browser.get(f"/queries/{gone}").headers["X-Cache"] == "HIT"
    browser.get("/")
    assert browser.get("/").headers["X-Cache"] == "HIT"

    page = browser.get(f"/queries/{gone}/delete")
    assert page.headers["Cache-Control"] == "no-store"
    assert "stay in the archive" in page.text
    answer = page_forms(page)[0].submit(status=303)

    assert answer.location.endswith("/")
    browser.get(f"/queries/{gone}", status=404)  # its cached page was dropped
    browser.get(f"/queries/{gone}/delete", status=404)
    assert set(rows_of(clean, gone).values()) == {0}
    assert questions and questions_left(clean, questions) == questions
    with clean.session() as dbsession:
        assert dbsession.get(SavedSearch, gone) is None
    home = browser.get("/")
    assert home.html.find("tr", attrs={"data-query-id": str(gone)}) is None
    assert home.html.find("tr", attrs={"data-query-id": str(kept)}) is not None

    before = calls_for(upstream, "asyncio"), calls_for(upstream, "django")
    report = run_cycle(clean, settings=ONLY_SEARCHES)
    assert report.plan.searches == [kept]
    assert calls_for(upstream, "asyncio") == before[0]
    assert calls_for(upstream, "django") > before[1]


def test_delete_without_the_token_is_a_403_and_deletes_nothing(clean, browser):
    search_id = clean.save_search("asyncio")
    browser.post(f"/queries/{search_id}/delete", {}, status=403)
    browser.post(f"/queries/{search_id}/delete", {"csrf_token": "not-the-visitors"},
                 status=403)
    browser.get(f"/queries/{search_id}", status=200)


def test_delete_cancels_the_searchs_waiting_refresh_tasks_only(clean, browser):
    gone, kept = clean.save_search("asyncio"), clean.save_search("django")
    its_task = queue_task(clean, "refresh", {"query_id": gone}, delay=600)
    other_task = queue_task(clean, "refresh", {"query_id": kept}, delay=600)

    browser.post(f"/queries/{gone}/delete", {"csrf_token": browser.token}, status=303)

    assert load_task(clean, its_task).state == "cancelled"
    assert load_task(clean, other_task).state == "pending"


def test_api_delete_is_204_then_404(clean, browser):
    search_id = clean.save_search("asyncio")
    task_id = queue_task(clean, "refresh", {"query_id": search_id})

    answer = browser.delete(f"/api/queries/{search_id}", status=204)

    assert answer.body == b""
    assert load_task(clean, task_id).state == "cancelled"
    missing = browser.delete(f"/api/queries/{search_id}", status=404)
    assert missing.json["errors"][0]["message"] == f"there is no saved search {search_id}"
    browser.get(f"/queries/{search_id}", status=404)


def test_api_delete_with_another_visitors_token_is_a_403(clean, browser):
    search_id = clean.save_search("asyncio")
    browser.delete(f"/api/queries/{search_id}", headers={"X-CSRF-Token": "stale"},
                   status=403)
    browser.delete(f"/api/queries/{search_id}", headers={"X-CSRF-Token": browser.token},
                   status=204)


def test_the_openapi_document_has_the_delete(browser):
    operation = browser.get("/api/openapi.json").json["paths"]["/api/queries/{id}"]["delete"]
    assert set(operation["responses"]) == {"204", "403", "404"}


def test_a_harvest_whose_search_is_deleted_under_it_stops_saying_so(clean):
    def delete_it(page):
        with new_transaction(clean.session_factory) as dbsession:
            delete_search(dbsession, dbsession.scalar(select(SavedSearch)))

    request = HarvestRequest(q="asyncio", site="stackoverflow", max_pages=3)
    with pytest.raises(SearchDeleted, match="was deleted meanwhile"):
        run_harvest(clean.session_factory, clean.api, request, on_page=delete_it)



def test_the_api_route_takes_only_delete(clean, browser):
    search_id = clean.save_search("asyncio")
    answer = browser.get(f"/api/queries/{search_id}", status=405)
    assert answer.headers["Allow"] == "DELETE"

"""The download links of a results page: /queries/{id}/export.{csv,xlsx,json}."""

import io
import json
import re
from datetime import datetime

import openpyxl
import pytest
from sqlalchemy import update

from stackq.models import Question
from tests.support.apps import visitor
from tests.support.reading import csv_rows, open_pages
from tests.support.searches import create_search

TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
}


def export_ids(answer, fmt):
    if fmt == "csv":
        return [int(row[0]) for row in csv_rows(answer.body)[1:]]
    if fmt == "json":
        return [item["question_id"] for item in json.loads(answer.body)]
    sheet = openpyxl.load_workbook(io.BytesIO(answer.body)).active
    return [row[0].value for row in sheet.iter_rows(min_row=2)]


@pytest.fixture
def python_search(testapp, csrf):
    query_id = create_search(testapp, csrf, q="python")
    open_pages(testapp, query_id, 2, "votes", "asc")
    return query_id


@pytest.mark.parametrize("fmt", sorted(TYPES))
def test_a_download_is_the_pages_results_in_its_order_with_a_filename(testapp, python_search,
                                                                      fmt):
    shown = open_pages(testapp, python_search, 2, "votes", "asc")
    answer = testapp.get(f"/queries/{python_search}/export.{fmt}",
                         {"sort": "votes", "order": "asc"})
    assert answer.status_int == 200
    assert answer.headers["Content-Type"] == TYPES[fmt]
    day = datetime.now().strftime("%Y-%m-%d")
    name = f"stackq-{python_search}-python-stackoverflow-votes-asc-{day}.{fmt}"
    assert answer.headers["Content-Disposition"] == (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}")
    assert answer.headers["Cache-Control"] == "no-store"
    assert "X-Cache" not in answer.headers
    assert int(answer.headers["Content-Length"]) == len(answer.body)
    assert export_ids(answer, fmt) == shown


def test_the_results_page_links_each_download_in_its_sort_and_order(testapp, python_search):
    page = testapp.get(f"/queries/{python_search}", {"sort": "votes", "order": "asc"})
    links = [a["href"] for a in page.html.select("p.downloads a")]
    assert links == [f"http://example.com/queries/{python_search}/export.{fmt}"
                     f"?sort=votes&order=asc" for fmt in ("csv", "xlsx", "json")]
    assert [a.text for a in page.html.select("p.downloads a")] == ["CSV", "XLSX", "JSON"]


def test_a_search_of_other_words_names_its_file_safely(testapp, csrf):
    query_id = create_search(testapp, csrf, q='Python: ünïcödé "quotes"')
    answer = testapp.get(f"/queries/{query_id}/export.csv")
    disposition = answer.headers["Content-Disposition"]
    assert re.fullmatch(rf'attachment; filename="stackq-{query_id}-Python-unicode-quotes-'
                        r'stackoverflow-activity-desc-[\d-]+\.csv"; filename\*=UTF-8\'\''
                        rf"stackq-{query_id}-Python-%C3%BCn%C3%AFc%C3%B6d%C3%A9-quotes-"
                        r"stackoverflow-activity-desc-[\d-]+\.csv", disposition), disposition


@pytest.mark.parametrize("path, status", [
    ("/queries/999999/export.csv", 404),
    ("/queries/{id}/export.xml", 404),
    ("/queries/{id}/export.csv?sort=sideways", 400),
    ("/queries/{id}/export.json?order=up", 400),
])
def test_bad_downloads_say_what_is_wrong(testapp, python_search, path, status):
    answer = testapp.get(path.format(id=python_search), status=status)
    assert "Traceback" not in answer.text


def test_a_download_is_never_served_to_another_visitor_from_the_cache(capp, cache_redis, tm,
                                                                     dbsession, upstream):
    cache_redis.client().flushall()
    first, second = visitor(capp, tm, dbsession), visitor(capp, tm, dbsession)
    query_id = create_search(first, csrf_of(first), q="python")
    results = first.get(f"/queries/{query_id}")
    assert results.headers["X-Cache"] == "MISS"  # the cache is on for pages
    assert second.get(f"/queries/{query_id}").headers["X-Cache"] == "HIT"
    mine = first.get(f"/queries/{query_id}/export.csv")
    top = int(csv_rows(mine.body)[1][0])
    dbsession.execute(update(Question).where(Question.question_id == top)
                      .values(title="Changed after the first download"))

    theirs = second.get(f"/queries/{query_id}/export.csv")

    assert "X-Cache" not in mine.headers and "X-Cache" not in theirs.headers
    assert csv_rows(theirs.body)[1][1] == "Changed after the first download"
    assert theirs.headers["Cache-Control"] == "no-store"


def csrf_of(browser):
    page = browser.get("/queries/new")
    return page.html.find("meta", attrs={"name": "csrf-token"})["content"]

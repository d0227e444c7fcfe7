"""Reports of stored results: the page's order, plain-text titles, CSV, XLSX, JSON, JSON Lines."""

import io
import json
import os
import re
from datetime import datetime

import openpyxl
import pytest
from sqlalchemy import update

from stackq.export.report import COLUMNS, JSON_COLUMNS, export_rows, write_export
from stackq.infra.files import written_whole
from stackq.models import Owner, Question, SavedSearch
from stackq.testing.emulator_data import (
    HOSTILE_DISPLAY_NAME,
    HOSTILE_QUESTION_IDS,
    HOSTILE_TITLES,
)
from tests.support.reading import csv_rows, open_pages
from tests.support.searches import create_search

HOSTILE = set(HOSTILE_TITLES.values())
FORMULAS = {  # stored title -> the CSV cell
    "=HYPERLINK(\"http://evil.example\",\"click\")": "'=HYPERLINK(\"http://evil.example\",\"click\")",
    "+1 vote for this": "'+1 vote for this",
    "-cmd|' /C calc'!A0": "'-cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd": "'@SUM(1+1)*cmd",
    "\tleading tab": "'\tleading tab",
    "\rleading return": "'\rleading return",
}


@pytest.fixture
def python_search(testapp, csrf):
    """'python' with its first three pages by activity stored, as a visitor opening them."""
    query_id = create_search(testapp, csrf, q="python")
    open_pages(testapp, query_id, 3)
    return query_id


def report(dbsession, query_id, fmt, sort="activity", order="desc"):
    out = io.BytesIO()
    count = write_export(dbsession, dbsession.get(SavedSearch, query_id), fmt, out, sort, order)
    return count, out.getvalue()


@pytest.mark.parametrize("sort, order", [
    ("activity", "desc"), ("votes", "asc"), ("creation", "desc"),
    ("title", "asc"), ("views", "desc"), ("answers", "asc"),
])
def test_rows_are_the_stored_results_in_the_pages_order(testapp, dbsession, python_search,
                                                        sort, order):
    if sort in ("votes", "creation"):
        open_pages(testapp, python_search, 3, sort, order)  # stored in that order too
    shown = open_pages(testapp, python_search, 3, sort, order)
    search = dbsession.get(SavedSearch, python_search)
    rows = list(export_rows(dbsession, search, sort, order, batch=70))  # batches cut pages
    ids = [row["question_id"] for row in rows]
    assert len(shown) == 300 and ids[:300] == shown
    assert len(ids) == len(set(ids))
    if sort in ("votes", "creation"):
        # Then the results stored only by activity, by the sort's own column.
        rest = [row["score" if sort == "votes" else "created"] for row in rows[300:]]
        assert rest and rest == sorted(rest, reverse=order == "desc")
    else:
        assert len(ids) == 300


def test_csv_is_utf8_with_a_bom_crlf_and_doubled_quotes(dbsession, python_search):
    count, body = report(dbsession, python_search, "csv")
    rows = csv_rows(body)
    assert count == 300 and len(rows) == 301
    assert rows[0] == list(COLUMNS)
    assert body.count(b"\r\n") == 301 and b"\n" not in body.replace(b"\r\n", b"")
    assert b'"What does the ""yield"" keyword do in Python?"' in body
    by_title = {row[1]: row for row in rows[1:]}
    assert HOSTILE <= set(by_title)  # decoded, plain text: no &amp; or &lt; left
    assert b"&lt;" not in body and b"&amp;" not in body
    famous = by_title[HOSTILE_TITLES["quotes"]]
    assert famous[0] == "231767" and famous[3:8] == ["13135", "51", "3499866", "true", "231855"]
    assert famous[2].startswith("https://stackoverflow.com/questions/231767/")
    assert famous[8] == "python;iterator;generator"
    assert famous[10] == "2009-01-04T00:00:00Z"
    assert HOSTILE_DISPLAY_NAME in {row[9] for row in rows[1:]}


def poison(dbsession, query_id):
    """Titles and an owner's name that a spreadsheet would run as formulas; a negative score."""
    rows = [r["question_id"] for r in export_rows(dbsession, dbsession.get(SavedSearch, query_id),
                                                  "activity", "desc")]
    for question_id, title in zip(rows[10:], FORMULAS, strict=False):
        dbsession.execute(update(Question).where(Question.question_id == question_id)
                          .values(title=title, score=-3))
    owner_id = dbsession.query(Question.owner_id).filter(Question.question_id == rows[20]).scalar()
    dbsession.execute(update(Owner).where(Owner.id == owner_id).values(display_name="=1+2"))
    return rows


def test_csv_neutralises_formulas_but_keeps_negative_numbers(dbsession, python_search):
    poison(dbsession, python_search)
    rows = csv_rows(report(dbsession, python_search, "csv")[1])
    by_title = {row[1]: row for row in rows[1:]}
    for stored, cell in FORMULAS.items():
        assert cell in by_title, stored
        assert by_title[cell][3] == "-3"  # a score, not a formula
    assert "'=1+2" in {row[9] for row in rows[1:]}
    text_columns = [COLUMNS.index(name) for name in ("title", "link", "tags", "owner",
                                                      "closed_reason")]
    assert not any(row[i].startswith(("=", "+", "-", "@", "\t", "\r"))
                   for row in rows[1:] for i in text_columns)


def test_xlsx_has_typed_cells_a_bold_frozen_header_and_an_autofilter(dbsession, python_search):
    poison(dbsession, python_search)
    count, body = report(dbsession, python_search, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    header = [cell.value for cell in sheet[1]]
    assert header == list(COLUMNS) and all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:N{count + 1}"
    assert sheet.max_row == count + 1 == 301
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    famous = rows[231767]
    assert [c.value for c in famous[3:8]] == [13135, 51, 3499866, True, 231855]
    assert famous[0].data_type == "n" and famous[6].data_type == "b"
    assert famous[10].value == datetime(2009, 1, 4) and famous[10].is_date
    link = famous[2].value  # a HYPERLINK formula: every row linked, in constant memory
    assert famous[2].data_type == "f"
    assert re.fullmatch(r'=HYPERLINK\("(https://stackoverflow\.com/questions/231767/[^"]+)",'
                        r'"\1"\)', link), link
    assert all(row[2].value.startswith('=HYPERLINK("https://stackoverflow.com/questions/')
               for row in rows.values())
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["D"].width
    titles = {row[1].value: row[1] for row in rows.values()}
    assert HOSTILE <= set(titles)
    for stored in FORMULAS:  # kept as typed strings: never formulas, never quoted
        # A CR is written as Excel's escape _x000D_, which Excel reads back (openpyxl does not).
        read = stored.replace("\r", "_x000D_")
        assert titles[read].data_type == "s", stored


def test_json_is_one_array_and_jsonl_one_object_a_line(dbsession, python_search):
    count, body = report(dbsession, python_search, "json")
    items = json.loads(body)
    _, lines = report(dbsession, python_search, "jsonl")
    assert [json.loads(line) for line in lines.decode().splitlines()] == items
    assert count == len(items) == 300 and list(items[0]) == list(JSON_COLUMNS)
    famous = next(item for item in items if item["question_id"] == 231767)
    assert famous["tags"] == ["python", "iterator", "generator"]
    assert (famous["answered"], famous["closed_reason"], famous["created"]) == (
        True, None, "2009-01-04T00:00:00Z")
    assert HOSTILE <= {item["title"] for item in items}


def test_a_report_of_no_rows_is_still_well_formed(testapp, csrf, dbsession):
    query_id = create_search(testapp, csrf, q="asyncio")  # saved, no page opened
    assert json.loads(report(dbsession, query_id, "json")[1]) == []
    assert report(dbsession, query_id, "jsonl")[1] == b""
    assert csv_rows(report(dbsession, query_id, "csv")[1]) == [list(COLUMNS)]
    sheet = openpyxl.load_workbook(io.BytesIO(report(dbsession, query_id, "xlsx")[1])).active
    assert [cell.value for cell in sheet[1]] == list(COLUMNS) and sheet.max_row == 1


def test_a_file_written_whole_appears_only_when_complete(tmp_path):
    target = tmp_path / "report.csv"
    target.write_bytes(b"the previous report")
    with pytest.raises(RuntimeError), written_whole(target) as out:
        out.write(b"half a report")
        raise RuntimeError("the database went away")
    assert target.read_bytes() == b"the previous report"
    assert os.listdir(tmp_path) == ["report.csv"]  # no temporary file left behind
    with written_whole(target) as out:
        out.write(b"the new report")
        assert target.read_bytes() == b"the previous report"  # not yet
    assert target.read_bytes() == b"the new report"


def test_reports_hold_each_body_as_text_and_json_its_html_too(dbsession, python_search):
    items = {item["question_id"]: item for item in
             json.loads(report(dbsession, python_search, "json")[1])}
    script = items[HOSTILE_QUESTION_IDS["script"]]
    assert script["body_html"].startswith("<p>") and "<script" not in script["body_html"]
    assert "<" not in script["body"].replace(HOSTILE_TITLES["script"], "")
    assert "I tried the obvious approach first: python html" in script["body"]
    assert "the trick or the docs." in script["body"]
    rows = csv_rows(report(dbsession, python_search, "csv")[1])
    column = COLUMNS.index("body")
    assert all(row[column] for row in rows[1:]) and "What am I missing?" in rows[1][column]

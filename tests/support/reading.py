"""What tests read back: the question ids a results page shows, the rows of a CSV report."""

import csv
import io


def shown_ids(page):
    return [int(row["data-question-id"]) for row in page.html.select("table.results tbody tr")]


def open_pages(testapp, query_id, pages, sort="activity", order="desc"):
    """The question ids the results pages show, pages 1..`pages` at 100 a page."""
    ids = []
    for page in range(1, pages + 1):
        shown = testapp.get(f"/queries/{query_id}",
                            {"page": page, "per_page": 100, "sort": sort, "order": order})
        ids += shown_ids(shown)
    return ids


def csv_rows(body):
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def page_forms(page):
    """The forms of a webtest page's content, in order: not the header's search box, which
    every page has first."""
    numbered = sorted(key for key in page.forms if isinstance(key, int))
    return [page.forms[key] for key in numbered
            if "search-box" not in (page.forms[key].html.form.get("class") or [])]

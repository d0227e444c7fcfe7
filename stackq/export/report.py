"""Reports of a saved search's stored results: rows streamed from the database, in a page's order.

`export_rows` reads the rows through a server-side cursor (`yield_per`), a batch at a
time, so a report of any size holds one batch in memory; `write_export` writes them in
one of FORMATS as they come.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..models import Owner, Question, SearchPosition, SearchResult, tag_names
from ..searches.saved import STORED_SORT_COLUMNS, UPSTREAM_SORTS
from ..stackexchange.bodies import body_text
from .formats import COLUMNS, JSON_COLUMNS, write_csv, write_json, write_jsonl
from .xlsx import write_xlsx

__all__ = ["COLUMNS", "FORMATS", "JSON_COLUMNS", "export_filename", "export_rows", "write_export"]

# The stored column each upstream sort orders by, for rows stored in no page of that order.
UPSTREAM_SORT_COLUMNS = {
    "activity": Question.last_activity_date,
    "creation": Question.creation_date,
    "votes": Question.score,
}
BATCH = 1000


@dataclass(frozen=True)
class ExportFormat:
    extension: str
    content_type: str
    write: object  # callable(rows, binary file)
    streams: bool  # can be written to a pipe (stdout), not only to a file


FORMATS = {
    "csv": ExportFormat("csv", "text/csv; charset=utf-8", write_csv, True),
    "xlsx": ExportFormat(
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        write_xlsx, False),
    "json": ExportFormat("json", "application/json; charset=utf-8", write_json, True),
    "jsonl": ExportFormat("jsonl", "application/x-ndjson; charset=utf-8", write_jsonl, True),
}


def by_column(column, order):
    """Ties broken by row id, as the results page breaks them."""
    if order == "asc":
        return column.asc(), Question.id.asc()
    return column.desc(), Question.id.desc()


def ordered_results(search, sort, order):
    """Every stored result of `search`, in the order its results pages show for (sort, order).

    Upstream sorts follow the stored upstream positions; a result stored only in another
    order comes after those, by the sort's own column.
    """
    stmt = (
        select(Question.id, Question.question_id, Question.title, Question.link,
               Question.score, Question.answer_count, Question.view_count,
               Question.is_answered, Question.accepted_answer_id, Owner.display_name,
               Question.creation_date, Question.last_activity_date, Question.closed_reason,
               Question.tags, Question.body)
        .select_from(SearchResult)
        .join(Question, Question.id == SearchResult.question_id)
        .outerjoin(Owner, Owner.id == Question.owner_id)
        .where(SearchResult.search_id == search.id)
    )
    if sort not in UPSTREAM_SORTS:
        return stmt.order_by(*by_column(STORED_SORT_COLUMNS[sort], order))
    # A question seen on two pages (it moved between their fetches) is reported once.
    position = (
        select(SearchPosition.question_id, func.min(SearchPosition.position).label("position"))
        .where(SearchPosition.search_id == search.id, SearchPosition.sort == sort,
               SearchPosition.direction == order)
        .group_by(SearchPosition.question_id)
        .subquery()
    )
    return (stmt.outerjoin(position, position.c.question_id == Question.id)
            .order_by(position.c.position.is_(None), position.c.position,
                      *by_column(UPSTREAM_SORT_COLUMNS[sort], order)))


def export_rows(dbsession, search, sort, order, batch=BATCH):
    """The report's rows (dicts keyed by COLUMNS), streamed from the database."""
    result = dbsession.execute(ordered_results(search, sort, order)
                               .execution_options(yield_per=batch))
    for rows in result.partitions():
        for row in rows:
            yield {
                "question_id": row.question_id,
                "title": row.title,
                # The link the results page shows (Question.url's rule), never another scheme.
                "link": Question.url(row, search.site),
                "score": row.score,
                "answers": row.answer_count,
                "views": row.view_count,
                "answered": row.is_answered,
                "accepted_answer_id": row.accepted_answer_id,
                "tags": list(tag_names(row.tags)),
                "owner": row.display_name,
                "created": row.creation_date,
                "last_activity": row.last_activity_date,
                "closed_reason": row.closed_reason,
                "body": body_text(row.body),
                "body_html": row.body,
            }


def write_export(dbsession, search, fmt, out, sort, order):
    """Write the report of `search` in format `fmt` to the binary file `out`; rows written."""
    return FORMATS[fmt].write(export_rows(dbsession, search, sort, order), out)


def export_filename(search, fmt, sort, order, now=None):
    """`stackq-7-python-stackoverflow-activity-desc-2026-11-22.csv`: the search, named."""
    words = search.q or search.tagged.replace(";", " ")
    slug = "-".join("".join(c if c.isalnum() else " " for c in words).split()) or "search"
    day = (now or datetime.now()).strftime("%Y-%m-%d")
    return (f"stackq-{search.id}-{slug[:60]}-{search.site.api_site_parameter}-{sort}-{order}"
            f"-{day}.{FORMATS[fmt].extension}")

"""A saved search's results pages: upstream order on demand, or sorted in the database.

A page is read in a fixed number of statements, prebuilt once (their compiled
forms are cached): whether its upstream page is stored, then the rows with their
owners and tags. Rows are plain `ResultRow`s, not ORM objects: a page only shows them.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam, select

from ..models import (
    FetchedPage,
    Owner,
    Question,
    SearchPosition,
    SearchResult,
    end_reads,
    tag_names,
)
from ..models.questions import question_url
from ..stackexchange.policy import KEYLESS_LAST_PAGE
from .ingest import UPSTREAM_PAGE_SIZE, store_page
from .saved import (
    STORED_SORT_COLUMNS,
    UPSTREAM_SORTS,
    PageNotFound,
    SearchInputError,
    fetch_search,
    read_connection,
    stored_count,
)


class ResultRow(NamedTuple):
    """One question as a results page shows it (a tuple: templates unpack it, fast)."""

    position: int
    question_id: int
    title: str
    url: str
    closed_reason: str | None
    score: int
    answer_count: int
    accepted: bool
    view_count: int
    creation_date: object
    last_activity_date: object
    owner_name: str | None
    owner_link: str | None
    tags: tuple


@dataclass
class ResultsPage:
    questions: list  # of ResultRow
    page: int
    per_page: int
    sort: str
    order: str
    last_page: int
    row_count: int | None
    upstream: bool
    stored: int  # how many results of the search are stored

    @property
    def first_position(self):
        return (self.page - 1) * self.per_page + 1


ROW_COLUMNS = (
    Question.question_id, Question.title, Question.link, Question.closed_reason,
    Question.score, Question.answer_count, Question.accepted_answer_id, Question.view_count,
    Question.creation_date, Question.last_activity_date, Owner.display_name, Owner.link,
    Question.tags,
)
ROWS = select(*ROW_COLUMNS).outerjoin(Owner, Owner.id == Question.owner_id)
UPSTREAM_SLICE = (SearchPosition.search_id == bindparam("search_id"),
                  SearchPosition.sort == bindparam("sort"),
                  SearchPosition.direction == bindparam("order"),
                  SearchPosition.position.between(bindparam("first"), bindparam("last")))
UPSTREAM_ROWS = (
    ROWS.join(SearchPosition, SearchPosition.question_id == Question.id)
    .where(*UPSTREAM_SLICE).order_by(SearchPosition.position)
)


def stored_rows_statement(column, order):
    ordering = (column.asc(), Question.id.asc()) if order == "asc" else (
        column.desc(), Question.id.desc())
    return (ROWS.join(SearchResult, SearchResult.question_id == Question.id)
            .where(SearchResult.search_id == bindparam("search_id"))
            .order_by(*ordering).limit(bindparam("limit")).offset(bindparam("offset")))


STORED_ROWS = {(sort, order): stored_rows_statement(column, order)
               for sort, column in STORED_SORT_COLUMNS.items() for order in ("asc", "desc")}


def read_rows(dbsession, site, statement, params, first_position):
    """The `ResultRow`s `statement` (ROW_COLUMNS) selects by `params`: one statement."""
    rows = read_connection(dbsession).execute(statement, params).all()
    return [
        ResultRow(position, question_id, title, question_url(site, link, question_id), closed,
                  score, answers, accepted is not None, views, created, active, owner,
                  owner_link, tag_names(tags))
        for position, (question_id, title, link, closed, score, answers, accepted, views,
                       created, active, owner, owner_link, tags) in enumerate(rows, first_position)
    ]


FETCHED = select(FetchedPage.page).where(
    FetchedPage.search_id == bindparam("search_id"), FetchedPage.sort == bindparam("sort"),
    FetchedPage.direction == bindparam("order"), FetchedPage.page == bindparam("page"))


def is_page_stored(dbsession, search, sort, order, upstream_page):
    """True if the upstream page is stored (one prebuilt statement, no ORM object)."""
    params = {"search_id": search.id, "sort": sort, "order": order, "page": upstream_page}
    return read_connection(dbsession).execute(FETCHED, params).first() is not None


def last_reachable_page(total, per_page, has_key):
    rows = total
    if not has_key:
        rows = min(rows, KEYLESS_LAST_PAGE * UPSTREAM_PAGE_SIZE)
    return max(1, math.ceil(rows / per_page))


def upstream_page_of(page, per_page, sort, order):
    """(sort, order, upstream page) that page `page` of `per_page` rows lies in; None if
    (sort, order) is no upstream order."""
    if sort not in UPSTREAM_SORTS:
        return None
    return sort, order, (page - 1) * per_page // UPSTREAM_PAGE_SIZE + 1


def results_page(dbsession, api, search, page, per_page, sort, order, has_key=False,
                 stored=None, page_stored=None):
    """Page `page` of `search` in (sort, order), fetching it upstream if not stored.

    `stored`: how many results of the search are stored, and `page_stored`: whether its
    upstream page is (`upstream_page_of`), if the caller read them already.
    """
    if sort in UPSTREAM_SORTS:
        return upstream_results(dbsession, api, search, page, per_page, sort, order, has_key,
                                stored, page_stored)
    return stored_results(dbsession, search, page, per_page, sort, order, stored)


def upstream_results(dbsession, api, search, page, per_page, sort, order, has_key, stored,
                     page_stored):
    first = (page - 1) * per_page + 1
    upstream_page = upstream_page_of(page, per_page, sort, order)[2]
    if not has_key and upstream_page > KEYLESS_LAST_PAGE:
        raise SearchInputError(
            f"page {page} lies past result {KEYLESS_LAST_PAGE * UPSTREAM_PAGE_SIZE}:"
            " the Stack Exchange API serves it only with an API key (stackq.api.key)"
        )
    last_page = None
    if search.total is not None:
        last_page = last_reachable_page(search.total, per_page, has_key)
        if page > last_page:
            raise PageNotFound(f"page {page} is past the last page ({last_page})")
    if page_stored is None:
        page_stored = is_page_stored(dbsession, search, sort, order, upstream_page)
    if not page_stored:
        end_reads(dbsession)  # the call may take seconds: hold no pooled connection
        answer = fetch_search(api, search, sort=sort, order=order, page=upstream_page,
                              pagesize=UPSTREAM_PAGE_SIZE)
        store_page(dbsession, search, sort, order, upstream_page, answer)
        stored = None  # the page may have added results
    questions = read_rows(dbsession, search.site, UPSTREAM_ROWS, {
        "search_id": search.id, "sort": sort, "order": order,
        "first": first, "last": first + per_page - 1}, first)
    if last_page is None:
        last_page = page if len(questions) < per_page else page + 1
    if stored is None:
        stored = stored_count(dbsession, search.id)
    return ResultsPage(questions, page, per_page, sort, order, last_page, search.total,
                       upstream=True, stored=stored)


def stored_results(dbsession, search, page, per_page, sort, order, stored):
    count = stored_count(dbsession, search.id) if stored is None else stored
    last_page = max(1, math.ceil(count / per_page))
    if page > last_page:
        raise PageNotFound(f"page {page} is past the last page ({last_page})")
    questions = read_rows(dbsession, search.site, STORED_ROWS[sort, order], {
        "search_id": search.id, "limit": per_page, "offset": (page - 1) * per_page},
        (page - 1) * per_page + 1)
    return ResultsPage(questions, page, per_page, sort, order, last_page, count,
                       upstream=False, stored=count)

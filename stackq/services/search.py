"""Saved searches and their result pages: upstream order on demand, or sorted in the DB."""

import math
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from ..models import FetchedPage, Question, SavedSearch, SearchPosition, SearchResult, Site
from ..models.upsert import upsert
from .ingest import UPSTREAM_PAGE_SIZE, store_page, utcnow

SEARCH_METHOD = "search/advanced"
# Sorts the API itself orders by: the Nth page is the true Nth page upstream.
UPSTREAM_SORTS = ("activity", "creation", "votes")
# Sorts done in the database over what is stored.
STORED_SORT_COLUMNS = {
    "title": Question.title,
    "answers": Question.answer_count,
    "views": Question.view_count,
}
SORTS = UPSTREAM_SORTS + tuple(STORED_SORT_COLUMNS)
ORDERS = ("desc", "asc")
# Without a key the API serves no page past 25.
KEYLESS_LAST_UPSTREAM_PAGE = 25


class SearchInputError(ValueError):
    """The user's search or page request cannot be served as asked (400)."""


class PageNotFound(LookupError):
    """The page lies past the last page of results (404)."""


@dataclass
class ResultsPage:
    questions: list
    page: int
    per_page: int
    sort: str
    order: str
    last_page: int
    row_count: int | None
    upstream: bool

    @property
    def first_position(self):
        return (self.page - 1) * self.per_page + 1


def normalize_text(q):
    return " ".join((q or "").split())


def normalize_tags(tagged):
    """`Python; asyncio,python` -> `asyncio;python`: one spelling per set of tags."""
    names = {t.lower() for t in re.split(r"[\s;,]+", tagged or "") if t}
    return ";".join(sorted(names))


def find_site(dbsession, name):
    name = (name or "").strip().lower()
    site = dbsession.scalar(select(Site).where(Site.api_site_parameter == name))
    if site is None and "." in name:
        # Accept a site's domain too ("math.stackexchange.com").
        host = re.sub(r"^https?://", "", name).rstrip("/")
        site = dbsession.scalar(
            select(Site).where(Site.site_url.in_([f"https://{host}", f"http://{host}"]))
        )
    if site is None:
        raise SearchInputError(f"unknown site {name!r}: use a site's API name, e.g. stackoverflow")
    return site


def fetch_search(api, search, **params):
    """One call of the search method for `search` (a SavedSearch) with extra `params`."""
    return api.fetch(SEARCH_METHOD, site=search.site.api_site_parameter,
                     q=search.q or None, tagged=search.tagged or None, **params)


def fetch_total(api, search, **params):
    """How many results the API has for `search` (one call with the `total` filter)."""
    return fetch_search(api, search, filter="total", **params).total


def get_or_create_search(dbsession, api, site_name, q, tagged):
    """The saved search for (site, q, tagged): reused if it exists, else created."""
    site = find_site(dbsession, site_name)
    q, tagged = normalize_text(q), normalize_tags(tagged)
    if not q and not tagged:
        raise SearchInputError("enter words to search for, tags, or both")
    if len(q) > 500 or len(tagged) > 500:
        raise SearchInputError("the search is too long (500 characters at most)")
    key = (SavedSearch.site_id == site.id) & (SavedSearch.q == q) & (SavedSearch.tagged == tagged)
    search = dbsession.scalar(select(SavedSearch).where(key))
    if search is not None:
        return search
    total = fetch_total(api, SavedSearch(site=site, q=q, tagged=tagged))
    # Two people saving the same search at once get one row.
    now = utcnow()
    upsert(dbsession, SavedSearch,
           [{"site_id": site.id, "q": q, "tagged": tagged, "total": total,
             "created_at": now, "refreshed_at": now, "total_at": now}],
           ["site_id", "q", "tagged"])
    return dbsession.scalar(select(SavedSearch).where(key))


def stored_count(dbsession, search_id):
    return dbsession.scalar(
        select(func.count()).select_from(SearchResult).where(SearchResult.search_id == search_id)
    )


def last_reachable_page(total, per_page, has_key):
    rows = total
    if not has_key:
        rows = min(rows, KEYLESS_LAST_UPSTREAM_PAGE * UPSTREAM_PAGE_SIZE)
    return max(1, math.ceil(rows / per_page))


def results_page(dbsession, api, search, page, per_page, sort, order, has_key=False):
    """Page `page` of `search` in (sort, order), fetching it upstream if not stored."""
    if sort in UPSTREAM_SORTS:
        return upstream_results(dbsession, api, search, page, per_page, sort, order, has_key)
    return stored_results(dbsession, search, page, per_page, sort, order)


def upstream_results(dbsession, api, search, page, per_page, sort, order, has_key):
    first = (page - 1) * per_page + 1
    upstream_page = (first - 1) // UPSTREAM_PAGE_SIZE + 1
    if not has_key and upstream_page > KEYLESS_LAST_UPSTREAM_PAGE:
        raise SearchInputError(
            f"page {page} lies past result {KEYLESS_LAST_UPSTREAM_PAGE * UPSTREAM_PAGE_SIZE}:"
            " the Stack Exchange API serves it only with an API key (stackq.api.key)"
        )
    last_page = None
    if search.total is not None:
        last_page = last_reachable_page(search.total, per_page, has_key)
        if page > last_page:
            raise PageNotFound(f"page {page} is past the last page ({last_page})")
    fetched = dbsession.get(FetchedPage, (search.id, sort, order, upstream_page))
    if fetched is None:
        answer = fetch_search(api, search, sort=sort, order=order, page=upstream_page,
                              pagesize=UPSTREAM_PAGE_SIZE)
        store_page(dbsession, search, sort, order, upstream_page, answer)
    questions = dbsession.scalars(
        select(Question)
        .join(SearchPosition, SearchPosition.question_id == Question.id)
        .where(
            SearchPosition.search_id == search.id,
            SearchPosition.sort == sort,
            SearchPosition.direction == order,
            SearchPosition.position.between(first, first + per_page - 1),
        )
        .order_by(SearchPosition.position)
    ).all()
    if last_page is None:
        last_page = page if len(questions) < per_page else page + 1
    return ResultsPage(list(questions), page, per_page, sort, order, last_page,
                       search.total, upstream=True)


def stored_results(dbsession, search, page, per_page, sort, order):
    count = stored_count(dbsession, search.id)
    last_page = max(1, math.ceil(count / per_page))
    if page > last_page:
        raise PageNotFound(f"page {page} is past the last page ({last_page})")
    column = STORED_SORT_COLUMNS[sort]
    ordering = (column.asc(), Question.id.asc()) if order == "asc" else (
        column.desc(), Question.id.desc())
    questions = dbsession.scalars(
        select(Question)
        .join(SearchResult, SearchResult.question_id == Question.id)
        .where(SearchResult.search_id == search.id)
        .order_by(*ordering)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return ResultsPage(list(questions), page, per_page, sort, order, last_page, count,
                       upstream=False)

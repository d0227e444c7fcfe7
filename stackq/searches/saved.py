"""Saved searches and their result pages: upstream order on demand, or sorted in the DB."""

import re
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, exists, func, select, update

from ..infra.clock import utcnow
from ..models import (
    FetchedPage,
    Question,
    SavedSearch,
    SearchResult,
    Site,
    end_reads,
)
from ..models.upsert import upsert
from ..stackexchange.filters import BODIES
from ..stackexchange.totals import count_results

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
# A results page records that it was opened at most this often per search (the refresher
# takes recently opened searches first).
OPENED_EVERY = timedelta(seconds=60)


class SearchInputError(ValueError):
    """The user's search or page request cannot be served as asked (400)."""


class PageNotFound(LookupError):
    """The page lies past the last page of results (404)."""


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


def search_params(search):
    """The API's parameters for `search` (a SavedSearch)."""
    return {"site": search.site.api_site_parameter, "q": search.q or None,
            "tagged": search.tagged or None}


def fetch_search(api, search, **params):
    """One call of the search method for `search` with extra `params`, bodies included."""
    return api.fetch(SEARCH_METHOD, **search_params(search), **{"filter": BODIES, **params})


def fetch_total(api, search, **params):
    """How many results the API has for `search`: one call, with a filter that keeps the
    answer's back-off in sight (stackexchange/totals.py)."""
    return count_results(api, SEARCH_METHOD, **search_params(search), **params)


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
    end_reads(dbsession)  # no transaction held open across the API call
    total = fetch_total(api, SavedSearch(site=site, q=q, tagged=tagged))
    # Two people saving the same search at once get one row.
    now = utcnow()
    upsert(dbsession, SavedSearch,
           [{"site_id": site.id, "q": q, "tagged": tagged, "total": total,
             "created_at": now, "refreshed_at": now, "total_at": now}],
           ["site_id", "q", "tagged"])
    return dbsession.scalar(select(SavedSearch).where(key))


def get_search(dbsession, search_id):
    """The saved search `search_id`, or None."""
    return dbsession.get(SavedSearch, search_id)


def list_searches(dbsession):
    """Every saved search, newest first, as (search, how many results are stored)."""
    stored = (
        select(SearchResult.search_id, func.count().label("stored"))
        .group_by(SearchResult.search_id)
        .subquery()
    )
    return dbsession.execute(
        select(SavedSearch, func.coalesce(stored.c.stored, 0))
        .outerjoin(stored, stored.c.search_id == SavedSearch.id)
        .order_by(SavedSearch.id.desc())
    ).all()


STORED_COUNT = select(func.count()).select_from(SearchResult).where(
    SearchResult.search_id == bindparam("search_id"))


class ShownSite(NamedTuple):
    api_site_parameter: str
    name: str
    site_url: str

    question_url = Site.question_url


class ShownSearch(NamedTuple):
    """A saved search as its results page shows it: one Core row, not an ORM object."""

    id: int
    site_id: int
    q: str
    tagged: str
    total: int | None
    opened_at: datetime | None
    paused: bool
    site: ShownSite
    stored: int  # how many of its results are stored
    page_stored: bool | None  # whether the upstream page asked for is stored (None: none was)

    tag_list = SavedSearch.tag_list


SHOWN_SEARCH = (
    select(SavedSearch.id, SavedSearch.site_id, SavedSearch.q, SavedSearch.tagged,
           SavedSearch.total, SavedSearch.opened_at, SavedSearch.paused,
           Site.api_site_parameter, Site.name,
           Site.site_url,
           select(func.count()).where(SearchResult.search_id == SavedSearch.id)
           .scalar_subquery())
    .join(Site, Site.id == SavedSearch.site_id)
    .where(SavedSearch.id == bindparam("search_id"))
)
# The same, and whether one upstream page of it is stored: a results page in an upstream
# order needs both before anything else.
SHOWN_SEARCH_AND_PAGE = SHOWN_SEARCH.add_columns(exists().where(
    FetchedPage.search_id == SavedSearch.id, FetchedPage.sort == bindparam("sort"),
    FetchedPage.direction == bindparam("order"), FetchedPage.page == bindparam("page")))


def read_search(dbsession, search_id, upstream_page=None):
    """The saved search `search_id` with its site and stored count (one statement), or None.

    `upstream_page`: (sort, order, page) of an upstream page whose being stored is read
    in the same statement (`ShownSearch.page_stored`).
    """
    params = {"search_id": search_id}
    statement = SHOWN_SEARCH
    if upstream_page is not None:
        params["sort"], params["order"], params["page"] = upstream_page
        statement = SHOWN_SEARCH_AND_PAGE
    row = read_connection(dbsession).execute(statement, params).first()
    if row is None:
        return None
    if upstream_page is None:
        *search, api_site_parameter, name, site_url, stored = row
        page_stored = None
    else:
        *search, api_site_parameter, name, site_url, stored, page_stored = row
    return ShownSearch(*search, ShownSite(api_site_parameter, name, site_url), stored,
                       page_stored)


def read_connection(dbsession):
    """The session's connection, in its transaction, for Core reads of what is committed
    or written by Core: a fifth of the cost of `dbsession.execute`, which goes through
    the ORM (autoflush, events) for every statement."""
    return dbsession.connection()


def stored_count(dbsession, search_id):
    """How many results of the search are stored (a prebuilt statement)."""
    return read_connection(dbsession).execute(STORED_COUNT, {"search_id": search_id}).scalar()


def note_opened(dbsession, search, now):
    """Someone opened the search's results: the refresher takes it first (once a minute).

    A plain UPDATE, not a change of the ORM object: when a search was last opened is no
    change of what its pages show, so their cached copies stay valid.
    """
    if search.opened_at is None or now - search.opened_at >= OPENED_EVERY:
        dbsession.execute(update(SavedSearch).where(SavedSearch.id == search.id)
                          .values(opened_at=now))

"""`/search` (a page) and `/api/search` (JSON): full-text search over everything stored."""

import re
from dataclasses import replace
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPBadRequest, HTTPServiceUnavailable
from pyramid.view import view_config

from ...cache import CachedPage, parameters
from ...infra.registry import settings_of
from ...searches.params import parse_choice, parse_page, single
from ...web.errors import TEMPLATE as ERROR_TEMPLATE
from ...web.errors import error_page
from .limit import SearchTooSlow, limited
from .query import parse_query
from .service import SORTS, search

PER_PAGE = ("25", "50", "100")
SITE = re.compile(r"[A-Za-z0-9.\-]{1,60}")
CACHED = CachedPage(query=parameters("q", "site", "sort", "page", "per_page"))


def search_request(request):
    """(text, the SearchQuery, sort, page, per_page) of the query string; a 400 for a bad
    sort, page or per_page (any `q` is a query)."""
    raw = single(request, "q") or ""
    site = (single(request, "site") or "").strip()
    sort = parse_choice("sort", single(request, "sort"), SORTS, "relevance")
    per_page = int(parse_choice("per_page", single(request, "per_page"), PER_PAGE, "25"))
    page = parse_page(single(request, "page"))
    if site and not SITE.fullmatch(site):
        raise HTTPBadRequest(f"site must be a site's API name (e.g. stackoverflow), not {site!r}")
    query = parse_query(raw)
    if site:
        query = replace(query, sites=(*query.sites, site.lower()))
    return raw, query, sort, page, per_page


def limited_search(request, query, sort, page, per_page):
    """search() within `stackq.search.time_limit`, on SQLite beside the hub
    (archive/search/limit.py); SearchTooSlow past it."""
    seconds = settings_of(request.registry).search_time_limit
    return limited(request.dbsession, seconds, search, query, sort, page, per_page)


def too_slow(stopped):
    return (f"This search took longer than {stopped.seconds:g} seconds and was stopped. Narrow"
            " it: a rarer word, a phrase with a rarer word in it, tag: or site:.")


@view_config(route_name="search", renderer="stackq.archive.search:templates/search.jinja2",
             request_method="GET", cached=CACHED)
def search_page(request):
    raw, query, sort, page, per_page = search_request(request)
    try:
        results = limited_search(request, query, sort, page, per_page)
    except SearchTooSlow as stopped:
        # The error page, with the query left in the header's search box to narrow.
        request.override_renderer = ERROR_TEMPLATE
        return {**error_page(request, 503, "Search stopped", too_slow(stopped)),
                "search_text": raw}
    site = single(request, "site") or ""

    def link(**changes):
        values = {"q": raw, "site": site, "sort": sort, "per_page": per_page, "page": page,
                  **changes}
        kept = {k: v for k, v in values.items()
                if v not in ("", None) and not (k == "page" and v == 1)
                and not (k == "sort" and v == "relevance") and not (k == "per_page" and v == 25)}
        return request.route_path("search") + ("?" + urlencode(kept) if kept else "")

    last_page = max(1, -(-results.total // per_page))
    return {"q": raw, "search_text": raw, "site": site, "query": query, "results": results,
            "sort": sort, "sorts": SORTS, "page": page, "per_page": per_page, "sizes": PER_PAGE,
            "last_page": last_page, "link": link}


@view_config(route_name="api_search", renderer="json", request_method="GET", cached=CACHED)
def search_api(request):
    _, query, sort, page, per_page = search_request(request)
    try:
        results = limited_search(request, query, sort, page, per_page)
    except SearchTooSlow as stopped:
        raise HTTPServiceUnavailable(too_slow(stopped)) from None
    return {"total": results.total, "page": page, "per_page": per_page,
            "hits": [hit.json() for hit in results.hits],
            "facets": {"site": results.sites, "tag": results.tags},
            "notes": list(query.notes)}

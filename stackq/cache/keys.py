"""Which requests the cache may answer, under which key, and what makes the page stale."""

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPBadRequest

from ..views.params import parse_results_params
from .store import LISTINGS, search_generation

# Never looked up, never stored. Forms carry the visitor's CSRF token; /status
# and the task pages and queue change by the second (a task page shows its live
# log); /ws is a WebSocket; static files are cached by browsers already.
NEVER_CACHED = (
    "/ws", "/status", "/static/", "/queries/new", "/tasks", "/api/", "/_debug_toolbar",
)
SEARCH_PAGE = re.compile(r"/queries/(\d+)(/.*)?\Z")


@dataclass(frozen=True)
class CacheKey:
    text: str  # the normalized request, the local layer's key
    digest: str  # its hash, the Redis key
    generation_key: str  # the counter whose change makes the page stale


def may_look_up(request):
    return request.method == "GET" and not request.path_info.startswith(NEVER_CACHED) and (
        "HTTP_UPGRADE" not in request.environ)


def normalized_query(request, settings, results_page):
    """The query string the page depends on, sorted, with the defaults filled in.

    A results page reads only page, per_page, sort and order (defaults from the
    same parser the view uses); any other page, every parameter, sorted.
    """
    if results_page:
        page, per_page, sort, order = parse_results_params(request, settings)
        return f"order={order}&page={page}&per_page={per_page}&sort={sort}"
    return urlencode(sorted(request.GET.items()))


def cache_key(request, settings):
    """The key of a GET the cache may answer; None when the request is malformed.

    Pages hold absolute links built from the request's scheme and host, so
    those are part of the key: a forged Host header never reaches another
    visitor's page.
    """
    path = request.path_info
    match = SEARCH_PAGE.match(path)
    try:
        query = normalized_query(request, settings, results_page=bool(match and not match[2]))
    except (HTTPBadRequest, UnicodeDecodeError):
        return None  # the view answers 400, which is never cached
    text = f"{request.application_url}{path}?{query}"
    generation_key = search_generation(match[1]) if match else LISTINGS
    return CacheKey(text, hashlib.sha1(text.encode()).hexdigest(), generation_key)

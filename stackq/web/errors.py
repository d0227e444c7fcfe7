"""Every failure is a page in the site's layout: a clear message, never a traceback."""

import logging

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken, PredicateMismatch
from pyramid.httpexceptions import HTTPException, HTTPNotFound
from pyramid.view import exception_view_config, notfound_view_config

from ..models import DatabaseError, schema_behind
from ..stackexchange import RateLimited, UpstreamError, UpstreamTimeout, UpstreamUnreachable
from ..stackexchange.errors import QuotaExhausted, TemporarilyUnavailable

log = logging.getLogger(__name__)
TEMPLATE = "stackq.web:templates/error.jinja2"


def error_page(request, status, title, message, headers=None):
    request.response.status = status
    request.response.cache_control = "no-store"
    request.response.headers.update(headers or {})
    return {"status": status, "title": title, "message": message}


def error_detail(exc, otherwise):
    """What an HTTP error says: the text it was raised with ("there is no saved search 7"),
    else `otherwise`. Pages and the JSON API alike."""
    return exc.detail if isinstance(exc.detail, str) and exc.detail else otherwise


@notfound_view_config(renderer=TEMPLATE)
def not_found(exc, request):
    message = error_detail(exc, f"There is no page at {request.path}.")
    return error_page(request, 404, "Not found", message)


def allowed_methods(request):
    """The methods the views of the matched route take (empty if it has none for any)."""
    route = request.matched_route
    if route is None:
        return set()
    methods = set()
    for view in request.registry.introspector.get_category("views"):
        found = view["introspectable"]
        if found["route_name"] == route.name:
            taken = found["request_methods"] or ()
            methods.update((taken,) if isinstance(taken, str) else taken)
    return methods


@exception_view_config(PredicateMismatch, renderer=TEMPLATE)
def wrong_method(exc, request):
    """A route that exists but takes no such request: 405 naming what it takes."""
    methods = sorted(allowed_methods(request))
    if not methods or request.method in methods:
        return not_found(HTTPNotFound(), request)  # another predicate: there is no such page
    return error_page(request, 405, "Method not allowed",
                      f"{request.path} takes {' or '.join(methods)}, not {request.method}.",
                      headers={"Allow": ", ".join(methods)})


@exception_view_config(HTTPException, renderer=TEMPLATE)
def http_error(exc, request):
    if exc.code < 400:
        return exc
    return error_page(request, exc.code, exc.title, error_detail(exc, exc.explanation))


@exception_view_config(BadCSRFToken, renderer=TEMPLATE)
@exception_view_config(BadCSRFOrigin, renderer=TEMPLATE)
def bad_csrf(exc, request):
    return error_page(request, 403, "Form expired",
                      "The form's security token is missing or stale. Reload the form and send"
                      " it again.")


@exception_view_config(RateLimited, renderer=TEMPLATE)
def rate_limited(exc, request):
    wait = max(1, round(exc.retry_after or 1))
    if isinstance(exc, QuotaExhausted):
        title, message = "Daily API quota used up", f"{exc}. Stored results stay readable."
    else:
        title = "Stack Exchange API busy"
        message = (f"stackq may not call the Stack Exchange API again yet. Try again in"
                   f" {wait} seconds; stored results stay readable.")
    return error_page(request, 503, title, message, headers={"Retry-After": str(wait)})


@exception_view_config(UpstreamError, renderer=TEMPLATE)
def upstream_error(exc, request):
    log.warning("upstream error on %s: %s", request.path, exc)
    unavailable = isinstance(exc, UpstreamTimeout | UpstreamUnreachable | TemporarilyUnavailable)
    status = 503 if unavailable else 502
    return error_page(request, status, "Stack Exchange API failed",
                      f"The Stack Exchange API failed ({exc}). Try again in a minute;"
                      " results already stored stay readable.")


@exception_view_config(DatabaseError, renderer=TEMPLATE)
def database_error(exc, request):
    """A database that cannot be reached (or dropped the connection) is a 503, not a bug;
    so is one whose schema was never created or is behind the code (`initialize_db`)."""
    if schema_behind(exc):
        log.warning("database schema missing or older than stackq on %s %s: %s; run"
                    " initialize_db with this ini file", request.method, request.path_qs,
                    str(exc.orig).strip())
        return error_page(request, 503, "Database not set up",
                          "stackq's database has no tables yet, or tables from an older"
                          " version. Run initialize_db with the same ini file (it is safe to"
                          " repeat), then reload this page.")
    if not (exc.connection_invalidated or exc.statement is None):
        return server_error(exc, request)  # a statement the database refused: a bug
    log.warning("database unavailable on %s %s: %s", request.method, request.path_qs,
                str(exc.orig).strip() or type(exc.orig).__name__)
    return error_page(request, 503, "Database unavailable",
                      "stackq cannot reach its database just now. Try again in a few seconds.",
                      headers={"Retry-After": "5"})


@exception_view_config(Exception, renderer=TEMPLATE)
def server_error(exc, request):
    log.exception("unexpected error on %s %s", request.method, request.path_qs)
    return error_page(request, 500, "Something went wrong",
                      "stackq hit an unexpected error; it is in the server's log.")

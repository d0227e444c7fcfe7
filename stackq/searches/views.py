"""Saved searches: the form, creating one, and its results pages."""

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from ..cache import CachedPage, search_in_path
from ..infra.clock import utcnow
from ..web.csrf import csrf_token
from .params import parse_results_params
from .results import results_page, upstream_page_of
from .saved import (
    UPSTREAM_SORTS,
    PageNotFound,
    SearchInputError,
    get_or_create_search,
    note_opened,
)


@view_config(route_name="query_new", renderer="stackq.searches:templates/query_new.jinja2",
             request_method="GET")
def new_query(request):
    form = {"q": request.GET.get("q", ""), "site": request.GET.get("site", "stackoverflow"),
            "tagged": request.GET.get("tagged", "")}
    return {"form": form, "error": None, "csrf_token": csrf_token(request)}


@view_config(route_name="queries", request_method="POST")
def create_query(request):
    form = {name: request.POST.get(name, "") for name in ("q", "site", "tagged")}
    form["site"] = form["site"] or "stackoverflow"
    try:
        search = get_or_create_search(request.dbsession, request.api, form["site"], form["q"],
                                      form["tagged"])
    except SearchInputError as error:
        request.response.status = 400
        return render_form(request, form, str(error))
    return HTTPSeeOther(request.route_url("query", id=search.id))


def render_form(request, form, error):
    return render_to_response("stackq.searches:templates/query_new.jinja2",
                              {"form": form, "error": error, "csrf_token": csrf_token(request)},
                              request=request,
                              response=request.response)


def results_query(request):
    """What a results page reads of its query string, defaults filled in, in one order."""
    page, per_page, sort, order = parse_results_params(request, request.settings)
    return f"order={order}&page={page}&per_page={per_page}&sort={sort}"


def page_links(request, search, results):
    """`page_url(page, sort=, order=, per_page=)` for the template: one route_url per page.

    Every value is a whole number or one of the fixed sort and order names: nothing to quote.
    """
    base = request.route_url("query", id=search.id)

    def page_url(page, sort=results.sort, order=results.order, per_page=results.per_page):
        return f"{base}?page={int(page)}&per_page={int(per_page)}&sort={sort}&order={order}"

    return page_url


EXPORT_FORMATS = ("csv", "xlsx", "json")


def download_links(request, search, results):
    """(format, link) of each download, in the page's sort and order (fixed names)."""
    query = f"?sort={results.sort}&order={results.order}"
    return [(fmt, request.route_url("query_export", id=search.id, format=fmt) + query)
            for fmt in EXPORT_FORMATS]


COLUMNS = (("title", "Question"), ("votes", "Score"), ("answers", "Answers"),
           ("views", "Views"), ("creation", "Asked"), ("activity", "Active"))


def sort_headers(results, page_url):
    """(label, link, aria-sort, arrow) of each sortable column: the active one flips order."""
    headers = []
    for column, label in COLUMNS:
        active = results.sort == column
        if active:
            order = "desc" if results.order == "asc" else "asc"
            aria = "ascending" if results.order == "asc" else "descending"
            arrow = "▲" if results.order == "asc" else "▼"
        else:
            order, aria, arrow = ("asc" if column == "title" else "desc"), None, None
        headers.append((label, page_url(1, sort=column, order=order), aria, arrow))
    return headers


@view_config(route_name="query", renderer="stackq.searches:templates/query_results.jinja2",
             request_method="GET", cached=CachedPage(search_in_path("id"), results_query))
def query_results(request):
    context, settings = request.context, request.settings
    try:
        page, per_page, sort, order = parse_results_params(request, settings)
    except HTTPBadRequest:
        context.shown()  # a search that does not exist is a 404 whatever is asked of it
        raise
    # The search and whether the upstream page is stored, in one statement.
    search = context.shown(upstream_page_of(page, per_page, sort, order))
    try:
        results = results_page(request.dbsession, request.api, search, page, per_page, sort,
                               order, has_key=bool(settings.api_key), stored=search.stored,
                               page_stored=search.page_stored)
    except SearchInputError as error:
        raise HTTPBadRequest(str(error)) from None
    except PageNotFound as error:
        raise HTTPNotFound(str(error)) from None
    page_url = page_links(request, search, results)
    note_opened(request.dbsession, search, utcnow())
    return {
        "search": search,
        "results": results,
        "page_url": page_url,
        "sort_headers": sort_headers(results, page_url),
        "downloads": download_links(request, search, results),
        "stored": results.stored,
        "page_sizes": settings.page_sizes,
        "upstream_sorts": UPSTREAM_SORTS,
        # Titles link to the stored copies (the archive's route), `…/{question_id}`.
        "stored_base": request.route_path("question", site=search.site.api_site_parameter,
                                          question_id="0")[:-1],
    }

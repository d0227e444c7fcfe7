"""Saved searches: the form, creating one, and its results pages."""

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from ..models import SavedSearch
from ..security import csrf_token
from ..services.ingest import utcnow
from ..services.refresh_state import note_opened
from ..services.search import (
    UPSTREAM_SORTS,
    PageNotFound,
    SearchInputError,
    get_or_create_search,
    results_page,
    stored_count,
)
from .params import parse_results_params


@view_config(route_name="query_new", renderer="stackq:templates/query_new.jinja2",
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
    return render_to_response("stackq:templates/query_new.jinja2",
                              {"form": form, "error": error, "csrf_token": csrf_token(request)},
                              request=request,
                              response=request.response)


@view_config(route_name="query", renderer="stackq:templates/query_results.jinja2",
             request_method="GET")
def query_results(request):
    search = request.dbsession.get(SavedSearch, int(request.matchdict["id"]))
    if search is None:
        raise HTTPNotFound(f"there is no saved search {request.matchdict['id']}")
    settings = request.registry.settings["stackq.settings"]
    page, per_page, sort, order = parse_results_params(request, settings)
    try:
        results = results_page(request.dbsession, request.api, search, page, per_page, sort,
                               order, has_key=bool(settings.api_key))
    except SearchInputError as error:
        raise HTTPBadRequest(str(error)) from None
    except PageNotFound as error:
        raise HTTPNotFound(str(error)) from None
    note_opened(search, utcnow())
    return {
        "search": search,
        "results": results,
        "stored": stored_count(request.dbsession, search.id),
        "page_sizes": settings.page_sizes,
        "upstream_sorts": UPSTREAM_SORTS,
    }

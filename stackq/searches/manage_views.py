"""Pause, resume and delete a saved search: the pages' forms and the JSON API's DELETE.

The results page and `/` are cached for every visitor, so their pause and resume forms carry
no token of their own (stackq/web/static/csrf_form.js copies the visitor's CSRF cookie in);
a visitor without the cookie gets a page asking to confirm, with a fresh token, and nothing
changes. A client that signs its request with an API token needs no CSRF token: its POST acts.
Deleting always goes through its confirmation page, and its POST without the visitor's token
(or an API token) is a 403.
"""

from pyramid.csrf import check_csrf_token
from pyramid.httpexceptions import HTTPForbidden, HTTPNoContent, HTTPSeeOther
from pyramid.view import view_config

from ..web.csrf import csrf_passed, csrf_token
from .manage import delete_search, deletion_hooks, set_paused

CONFIRM = "stackq.searches:templates/query_confirm.jinja2"
# What each action's confirmation page asks, and its button.
ASKED = {
    "query_pause": ("Pause “{}”?", "Pause",
                    "The refresher skips a paused search: it spends no API call on it, and "
                    "its share of the daily quota goes to the other searches."),
    "query_resume": ("Resume “{}”?", "Resume",
                     "The refresher takes it up again in its next cycles."),
    "query_delete": ("Delete “{}”?", "Delete",
                     "The saved search goes, with its results, their order and its history, "
                     "and its waiting refresh tasks are cancelled. The questions it stored "
                     "stay in the archive."),
}


def confirm_page(request, search):
    question, button, note = ASKED[request.matched_route.name]
    request.response.cache_control = "no-store"
    label = search.q or search.tagged
    return {"search": search, "question": question.format(label), "button": button,
            "note": note, "back": request.params.get("back", "results"),
            "csrf_token": csrf_token(request)}


def pause_or_resume(request, paused):
    search = request.context.search
    if not csrf_passed(request):
        return confirm_page(request, search)
    set_paused(request.dbsession, search, paused)
    # Back where the form was: `/` (a form of its list), else the search's results.
    if request.POST.get("back") == "home":
        return HTTPSeeOther(request.route_url("home"))
    return HTTPSeeOther(request.route_url("query", id=search.id))


@view_config(route_name="query_pause", request_method="POST", require_csrf=False,
             renderer=CONFIRM)
def pause(request):
    return pause_or_resume(request, True)


@view_config(route_name="query_resume", request_method="POST", require_csrf=False,
             renderer=CONFIRM)
def resume(request):
    return pause_or_resume(request, False)


@view_config(route_name="query_delete", request_method="GET", renderer=CONFIRM)
def confirm_delete(request):
    return confirm_page(request, request.context.search)


def delete_the_search(request):
    """Delete the route's search, with what the features registered to do then."""
    delete_search(request.dbsession, request.context.search, deletion_hooks(request.registry))


@view_config(route_name="query_delete", request_method="POST")
def delete(request):
    """CSRF-checked as every form (a 403 without the visitor's token); 303 to `/`."""
    delete_the_search(request)
    return HTTPSeeOther(request.route_url("home"))


@view_config(route_name="api_query", request_method="DELETE", require_csrf=False)
def api_delete(request):
    """`DELETE /api/queries/{id}`: 204, then a 404. As the task API: a cross-site page cannot
    send a DELETE without a preflight stackq never grants; a page's X-CSRF-Token is checked
    when one is sent."""
    if "X-CSRF-Token" in request.headers and not check_csrf_token(request, raises=False):
        raise HTTPForbidden("not this visitor's X-CSRF-Token: reload the page")
    delete_the_search(request)
    return HTTPNoContent()

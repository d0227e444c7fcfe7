"""The results page's "Refresh now": queue a `refresh` task of the search.

The results page is cached for every visitor, so its form carries no token of its own:
stackq/web/static/csrf_form.js copies the visitor's CSRF cookie into it. A visitor without the
cookie (or with a stale one) gets a page asking to confirm, with a fresh token; a client that
signs its request with an API token needs none.
"""

from pyramid.httpexceptions import HTTPConflict, HTTPSeeOther, HTTPTooManyRequests
from pyramid.view import view_config

from ..tasks.per_client import add_client_task
from ..tasks.queue import TooManyQueued
from ..web.csrf import csrf_passed, csrf_token
from .task import paused_message

CONFIRM = "stackq.refresh:templates/refresh_confirm.jinja2"


@view_config(route_name="query_refresh", request_method="POST", require_csrf=False,
             renderer=CONFIRM)
def refresh_now(request):
    search = request.context.search
    if search.paused:  # said before anything else: no task, no call
        raise HTTPConflict(paused_message(search.id))
    if not csrf_passed(request):
        request.response.cache_control = "no-store"
        return {"search": search, "csrf_token": csrf_token(request)}
    try:
        task = add_client_task(request, "refresh", {"query_id": search.id}, 0)
    except TooManyQueued as refused:
        raise HTTPTooManyRequests(f"{str(refused)[:1].upper()}{str(refused)[1:]}.") from None
    return HTTPSeeOther(request.route_url("task", id=task.id))  # its live page

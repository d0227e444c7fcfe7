"""The JSON API of the task queue (documented at /api/openapi.json, read at /api/docs).

Only `application/json` bodies are taken, which an HTML form on another site cannot send,
so no CSRF token is needed; a page's `X-CSRF-Token` is checked when one is sent.
"""

import logging

from pyramid.csrf import check_csrf_token
from pyramid.httpexceptions import HTTPException
from pyramid.view import exception_view_config, notfound_view_config, view_config

from ...web.errors import error_detail
from .. import queue
from ..cancel import cancel_and_announce
from ..events import announce_after_commit
from ..kinds import kinds_of
from ..per_client import add_client_task, refused_headers
from ..represent import summary, task_detail, task_json
from ..validation import InvalidTask, problem, read_body, validate_task

log = logging.getLogger(__name__)
API_PATHS = r"^/api/"
API = {"renderer": "json", "require_csrf": False}


def failure(request, status, errors):
    request.response.status = status
    request.response.cache_control = "no-store"
    return {"errors": errors}


def int_param(request, name, default, low, high, source=None):
    value = (source or request.GET).get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise InvalidTask(400, [problem(name, f"a whole number from {low} to {high}")])
    return number


def task_id(request):
    return int_param(request, "id", None, 1, queue.MAX_TASK_ID, source=request.matchdict)


@view_config(route_name="api_tasks", request_method="POST", **API)
def create_task(request):
    if "X-CSRF-Token" in request.headers and not check_csrf_token(request, raises=False):
        raise InvalidTask(403, [problem("X-CSRF-Token", "not this visitor's token: reload "
                                                        "the page")])
    body = read_body(request.content_type, request.body_file, request.content_length)
    has_key = bool(request.settings.api_key)
    kind, params, delay = validate_task(request.dbsession, kinds_of(request.registry), body,
                                        has_key)
    task = add_client_task(request, kind, params, delay)
    announce_after_commit(request.dbsession, task, "queued")
    request.response.status = 202
    request.response.location = request.route_url("api_task", id=task.id)
    return task_json(task)


@view_config(route_name="api_tasks", request_method="GET", **API)
def list_queue(request):
    return {"tasks": [summary(task) for task in queue.run_queue(request.dbsession)]}


@view_config(route_name="api_task_results", request_method="GET", **API)
def list_results(request):
    page = int_param(request, "page", 1, 1, 100000)
    per_page = int_param(request, "per_page", 20, 1, 100)
    tasks, total = queue.finished_tasks(request.dbsession, page, per_page)
    return {"tasks": [task_json(task) for task in tasks], "page": page, "per_page": per_page,
            "total": total}


@view_config(route_name="api_task", request_method="GET", **API)
def show_task(request):
    task = queue.get_task(request.dbsession, task_id(request))
    offset = int_param(request, "log_offset", 0, 0, 10**9)
    limit = int_param(request, "log_limit", 100, 1, 1000)
    lines, total = queue.task_lines(request.dbsession, task.id, offset, limit)
    return task_detail(task, lines, offset, total)


@view_config(route_name="api_task", request_method="DELETE", **API)
def cancel(request):
    task = cancel_and_announce(request.dbsession, task_id(request))
    request.response.status = 202
    return task_json(task)


@exception_view_config(InvalidTask, renderer="json")
def invalid(exc, request):
    return failure(request, exc.status, exc.errors)


@exception_view_config(queue.TaskNotFound, renderer="json")
def not_found(exc, request):
    return failure(request, 404, [problem("id", str(exc))])


@exception_view_config(queue.TooManyQueued, renderer="json")
def too_many(exc, request):
    request.response.headers.update(refused_headers())
    return failure(request, 429, [problem("tasks", str(exc))])


@exception_view_config(queue.TaskFinished, renderer="json")
def finished(exc, request):
    return failure(request, 409, [problem("id", str(exc))])


@notfound_view_config(path_info=API_PATHS, renderer="json")
@exception_view_config(HTTPException, path_info=API_PATHS, renderer="json")
def http_error(exc, request):
    """Errors under /api/ in JSON, as every other API answer."""
    if exc.code < 400:
        return exc
    message = error_detail(exc, exc.explanation) or exc.title
    return failure(request, exc.code, [problem("path", message)])


@exception_view_config(Exception, path_info=API_PATHS, renderer="json")
def server_error(exc, request):
    log.exception("unexpected error on %s %s", request.method, request.path_qs)
    return failure(request, 500, [problem("server", "an unexpected error; it is in the "
                                                    "server's log")])

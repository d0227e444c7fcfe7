"""The task pages: start a harvest (/tasks/new, POST /tasks), watch it live (/tasks/{id}),
cancel it, and the queue with its history (/tasks).

Every answer here is `no-store` (and the response cache never looks these paths up,
stackq/cache/keys.py): the form holds the visitor's CSRF token, the rest change by the second.
"""

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from ...searches.params import parse_page, single
from ...web.csrf import csrf_token
from .. import queue
from ..cancel import cancel_and_announce
from ..kinds import kinds_of
from ..per_client import add_client_task, refused_headers
from . import display as task_display
from .form import EMPTY, harvest_task, page_limit, read_form

FORM = "stackq.tasks.pages:templates/task_new.jinja2"
PAGE = "stackq.tasks.pages:templates/task_page.jinja2"
LIST = "stackq.tasks.pages:templates/task_list.jinja2"
LAST_LINES = 20  # on the live page; the whole log is one link away
WHOLE_LOG = 10000
HISTORY_PAGE = 50


def task_id(request, value):
    """The task of `value` (a path part or ?completed=), or a 404 page."""
    if not (value.isascii() and value.isdigit()):
        raise HTTPBadRequest(f"a task is named by its id, a whole number, not {value!r}")
    try:
        if int(value) > queue.MAX_TASK_ID:
            raise queue.TaskNotFound(f"there is no task {value}")
        return queue.get_task(request.dbsession, int(value))
    except queue.TaskNotFound as error:
        raise HTTPNotFound(str(error).capitalize() + ".") from None


def form_page(request, form, errors, completed=None):
    request.response.cache_control = "no-store"
    has_key = bool(request.settings.api_key)
    return render_to_response(FORM, {
        "form": form, "errors": errors, "completed": completed,
        "max_pages": page_limit(kinds_of(request.registry), has_key),
        "csrf_token": csrf_token(request)}, request=request, response=request.response)


@view_config(route_name="task_new", request_method="GET")
def new_task(request):
    """The form; with ?completed={id}, headed by how that task ended."""
    value = single(request, "completed")
    completed = None
    if value is not None:
        task = task_id(request, value)
        if task.state not in queue.FINISHED:
            return HTTPSeeOther(request.route_url("task", id=task.id))
        labels = task_display.search_labels(request.dbsession, [task])
        completed = dict(task_display.outcome(task, labels), id=task.id)
    return form_page(request, dict(EMPTY), {}, completed)


@view_config(route_name="tasks", request_method="POST")
def start_task(request):
    form = read_form(request.POST)
    task, errors = harvest_task(request.dbsession, kinds_of(request.registry), form,
                                bool(request.settings.api_key))
    if errors:
        request.response.status = 400
        return form_page(request, form, errors)
    kind, params, delay = task
    try:
        task = add_client_task(request, kind, params, delay)
    except queue.TooManyQueued as refused:
        # The form again, as typed, saying why: it can be sent once a task has ended.
        request.response.status = 429
        request.response.headers.update(refused_headers())
        return form_page(request, form, {"queue": (
            f"you ({refused.client}) already have {refused.limit} tasks queued or running, the"
            " most one visitor may have at once: wait for one to finish, or cancel one, then"
            " start this one")})
    return HTTPSeeOther(request.route_url("task", id=task.id))


@view_config(route_name="task", request_method="GET", renderer=PAGE)
def task_page(request):
    """A pending or running task, live; a finished one goes to the form headed by its end,
    unless ?log=1 asks for the task itself (and its whole log)."""
    task = task_id(request, request.matchdict["id"])
    whole_log = single(request, "log") == "1"
    if task.state in queue.FINISHED and not whole_log:
        return HTTPSeeOther(request.route_url("task_new", _query={"completed": task.id}))
    request.response.cache_control = "no-store"
    _, total = queue.task_lines(request.dbsession, task.id, 0, 0)
    shown = WHOLE_LOG if whole_log else LAST_LINES
    lines, _ = queue.task_lines(request.dbsession, task.id, max(0, total - shown), shown)
    last_line = lines[-1].line if lines else None
    live = task.state not in queue.FINISHED
    labels = task_display.search_labels(request.dbsession, [task])
    return {
        "task": task, "lines": lines, "total_lines": total, "whole_log": whole_log,
        "live": live, "refresh": request.settings.tasks_page_refresh,
        "state_text": task_display.state_text(request.dbsession, task, last_line),
        "starts_in": task_display.starts_in(task) if task.state == "pending" else 0,
        "progress": task_display.progress_view(task),
        "params": task_display.describe_params(task, labels),
        "outcome": None if live else task_display.outcome(task, labels),
        "last_lines": LAST_LINES, "api_wait": task_display.API_WAIT,
        "csrf_token": csrf_token(request),
    }


@view_config(route_name="task_cancel", request_method="POST")
def cancel(request):
    """Cancel from the page: a pending task ends now, a running one after its current page."""
    task = task_id(request, request.matchdict["id"])
    try:
        # As the API's DELETE does, so pages open on /ws hear of it.
        cancel_and_announce(request.dbsession, task.id)
    except queue.TaskFinished:
        pass  # it ended meanwhile: its page says how
    return HTTPSeeOther(request.route_url("task", id=task.id))


@view_config(route_name="tasks", request_method="GET", renderer=LIST)
def task_list(request):
    page = parse_page(single(request, "page"))
    history, total = queue.finished_tasks(request.dbsession, page, HISTORY_PAGE)
    request.response.cache_control = "no-store"
    running = queue.run_queue(request.dbsession)
    return {"queue": running, "history": history, "page": page,
            "last_page": max(1, -(-total // HISTORY_PAGE)), "total": total,
            "labels": task_display.search_labels(request.dbsession, running + history),
            "show": task_display}

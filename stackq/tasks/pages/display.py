"""A task in the task pages' words: its state, progress, params and outcome, as people read them."""

import math
import re
from functools import partial

from ...infra.clock import utcnow
from ...web.templating import format_duration
from ..context import WAITING
from ..lookup import a_worker_is_alive, running_number, searches_by_id

# The harvest kind's line while it waits for the API (stackq/harvest/task.py, on_wait);
# task_page.js gets the same pattern from the page, so both say "waiting for a free API slot".
API_WAIT = r"^waiting [0-9.]+ s for the API$"
HEADINGS = {"done": "completed", "failed": "failed", "cancelled": "cancelled"}


# A task's waits and run times: `12 s`, `3 min 20 s`, `2 h 5 min`; `—` when not known.
duration = partial(format_duration, to="second", unknown="—")


def between(start, end):
    return None if start is None or end is None else (end - start).total_seconds()


def planned_pages(task):
    """Pages the task plans (a harvest's `pages`), or None for kinds that plan none."""
    pages = (task.params or {}).get("pages")
    return pages if isinstance(pages, int) and pages > 0 else None


def progress_view(task):
    """The bar: progress 0..1, the percentage, and pages done of planned (None if unplanned)."""
    planned = planned_pages(task)
    return {"value": task.progress, "percent": math.floor(task.progress * 100 + 1e-9),
            "planned": planned, "done": None if planned is None else round(task.progress * planned)}


def search_labels(dbsession, tasks):
    """{saved search id: "“python” on stackoverflow"} of the searches refresh tasks name."""
    ids = {(task.params or {}).get("query_id") for task in tasks if task.kind == "refresh"}
    ids = {value for value in ids if isinstance(value, int)}
    return {search.id: f"“{search.q or search.tagged}” on {search.site.api_site_parameter}"
            for search in searches_by_id(dbsession, ids).values()}


def describe_params(task, labels=None):
    """What the task works on, e.g. `“python” on stackoverflow, 5 pages`."""
    params = task.params or {}
    if task.kind == "harvest":
        what = f"“{params.get('q', '')}” on {params.get('site', '?')}"
        if params.get("tagged"):
            what += f" tagged {params['tagged']}"
        pages = params.get("pages", 1)
        return f"{what}, {pages} page{'' if pages == 1 else 's'}"
    if task.kind == "refresh":
        search = f"saved search {params.get('query_id')}"
        label = (labels or {}).get(params.get("query_id"))
        return f"{label} ({search})" if label else search
    return ", ".join(f"{key}={value}" for key, value in sorted(params.items()))


def state_text(dbsession, task, last_line, now=None):
    """What the task is doing, e.g. "waiting to start in 12 s", "running"."""
    now = now or utcnow()
    if task.state == "running":
        if task.cancel_requested:
            return "stopping after the current page (cancel requested)"
        if last_line is not None and re.match(API_WAIT, last_line):
            return "waiting for a free API slot"
        return "running"
    if task.state != "pending":
        return HEADINGS.get(task.state, task.state)
    if task.run_after > now:
        if last_line is not None and last_line.startswith(WAITING):
            # Put back to wait (the quota's reserve): the line says why and until when.
            return f"{last_line} (in {duration(starts_in(task, now))})"
        return f"waiting to start in {duration(starts_in(task, now))}"
    running = running_number(dbsession)
    if running is not None:
        return f"waiting for task #{running} to finish"
    if a_worker_is_alive(dbsession, now):
        return "waiting for its turn"
    return "waiting for a worker (refresh_queries) to start it"


def queue_state(task, now=None):
    """A queued task's state as the task list shows it: "running (40 %)", "resumes in 3 h"
    (it ran and was put back to wait: the quota's reserve, a stop), "starts in 12 s", or
    "pending" (due, waiting for its turn)."""
    if task.state == "running":
        return f"running ({progress_view(task).percent} %)"
    if task.state == "pending" and task.run_after > (now or utcnow()):
        verb = "resumes" if task.started_at is not None else "starts"
        return f"pending, {verb} in {duration(starts_in(task, now))}"
    return task.state


def starts_in(task, now=None):
    """Whole seconds until a pending task may start (0 once it is due)."""
    return max(0, math.ceil(between(now or utcnow(), task.run_after)))


def outcome(task, labels=None):
    """A finished task's heading, reason and result (summary, the saved search's id)."""
    heading = f"Task #{task.number} {HEADINGS.get(task.state, task.state)}"
    result = task.result or {}
    reason = None
    if task.state == "failed":
        reason = task.error or "it failed without saying why"
    elif task.state == "cancelled":
        reason = ("Cancelled before it started." if task.started_at is None else
                  f"Cancelled while running, at {progress_view(task)['percent']} %.")
    summary = result_summary(task.kind, result) if task.state == "done" else None
    return {"heading": heading, "reason": reason, "summary": summary,
            "query_id": result.get("query_id") if task.state == "done" else None,
            "state": task.state, "kind": task.kind, "params": describe_params(task, labels)}


def result_summary(kind, result):
    def count(name, word):
        value = result.get(name, 0)
        return f"{value} {word}"

    if kind == "harvest":
        pages = result.get("pages", 0)
        return (f"{pages} page{'' if pages == 1 else 's'} stored: {count('new', 'new')} and "
                f"{count('updated', 'updated')} questions.")
    if kind == "refresh":
        return (f"{count('new', 'new')}, {count('changed', 'changed')} and "
                f"{count('removed', 'removed')} questions, in {count('calls', 'API calls')}.")
    return ", ".join(f"{key}: {value}" for key, value in sorted(result.items())) or None

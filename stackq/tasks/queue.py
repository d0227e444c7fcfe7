"""The queue as the API sees it: add, list, read, cancel. Runs in the caller's transaction."""

from datetime import timedelta

from sqlalchemy import case, func, select, text, update

from ..infra.clock import utcnow
from ..models import Task, TaskLine
from ..models.tasks import FINISHED

# Ids are the database's 32-bit integers: a larger one names no task.
MAX_TASK_ID = 2**31 - 1


class TaskNotFound(LookupError):
    pass


class TaskFinished(ValueError):
    """The task has already ended: there is nothing to cancel."""


class TooManyQueued(Exception):
    """The client has `limit` tasks not finished already (stackq.tasks.max_queued_per_client)."""

    def __init__(self, client, limit):
        super().__init__(f"{client} has {limit} tasks queued or running, the most one client "
                         "may have at once (stackq.tasks.max_queued_per_client): wait for one "
                         "to finish, or cancel one")
        self.client, self.limit = client, limit


def unfinished_of(dbsession, client):
    """How many tasks `client` queued that have not finished (pending or running)."""
    return dbsession.scalar(select(func.count()).select_from(Task).where(
        Task.client == client, Task.state.not_in(FINISHED)))


def add_task(dbsession, kind, params, delay=0, now=None, client=None, max_queued=None):
    """Queue a task of `kind` (params already validated); it may start `delay` s from now.

    `client` (a remote address) is who asks; with `max_queued`, TooManyQueued when that
    client already has as many tasks not finished."""
    now = now or utcnow()
    if dbsession.get_bind().dialect.name == "postgresql":
        # History numbers are max + 1, and a client's tasks are counted: adders take turns
        # (SQLite writers do anyway).
        dbsession.execute(text("SELECT pg_advisory_xact_lock(hashtext('stackq.tasks.number'))"))
    if max_queued is not None and unfinished_of(dbsession, client) >= max_queued:
        raise TooManyQueued(client, max_queued)
    number = (dbsession.scalar(select(func.max(Task.number))) or 0) + 1
    task = Task(kind=kind, number=number, created_at=now, delay=delay,
                run_after=now + timedelta(seconds=delay), params=params, state="pending",
                progress=0.0, attempts=0, cancel_requested=False, client=client)
    dbsession.add(task)
    dbsession.flush()
    return task


def get_task(dbsession, task_id):
    task = dbsession.get(Task, task_id)
    if task is None:
        raise TaskNotFound(f"there is no task {task_id}")
    return task


def run_queue(dbsession):
    """The running task, then the pending ones in the order they will run."""
    return list(dbsession.scalars(
        select(Task).where(Task.state.in_(("running", "pending")))
        .order_by(case((Task.state == "running", 0), else_=1), Task.run_after, Task.id)))


def finished_tasks(dbsession, page, per_page):
    """(tasks of that page, newest first; how many finished tasks in all)."""
    finished = Task.state.in_(FINISHED)
    total = dbsession.scalar(select(func.count()).select_from(Task).where(finished))
    tasks = list(dbsession.scalars(
        select(Task).where(finished).order_by(Task.finished_at.desc(), Task.id.desc())
        .offset((page - 1) * per_page).limit(per_page)))
    return tasks, total


def task_lines(dbsession, task_id, offset, limit):
    """(lines from `offset`, oldest first; how many lines in all)."""
    total = dbsession.scalar(select(func.count()).select_from(TaskLine)
                             .where(TaskLine.task_id == task_id))
    lines = list(dbsession.scalars(
        select(TaskLine).where(TaskLine.task_id == task_id).order_by(TaskLine.id)
        .offset(offset).limit(limit)))
    return lines, total


def cancel_task(dbsession, task_id, now=None):
    """A pending task is cancelled now; a running one is asked to stop at its next page.

    Conditional updates, so a worker claiming the task at this moment is no race."""
    now = now or utcnow()
    line = "cancelled before it started"
    changed = dbsession.execute(
        update(Task).where(Task.id == task_id, Task.state == "pending")
        .values(state="cancelled", finished_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        line = "cancel requested: it stops after the current page"
        changed = dbsession.execute(
            update(Task).where(Task.id == task_id, Task.state == "running",
                               Task.cancel_requested.is_(False))
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)).rowcount
    task = get_task(dbsession, task_id)
    dbsession.refresh(task)
    if changed:
        dbsession.add(TaskLine(task_id=task.id, at=now, line=line))
        dbsession.flush()
    elif task.state in FINISHED:
        raise TaskFinished(f"task {task.id} has already ended ({task.state})")
    return task

"""Helpers of the task-queue tests: a stack of their own (tests/support/stack.py), tasks in it.

Test modules take the fixtures by importing them: `stack` (a module's database and Redis),
`clean` (no task, no search, no back-off left), `events` (the events channel).
"""


import pytest
from sqlalchemy import select, text

from stackq.harvest.task import HARVEST
from stackq.models import FetchedPage, Task, TaskLine
from stackq.refresh.task import REFRESH
from stackq.tasks.queue import add_task
from tests.support.events import published

TASK_TABLES = ("task_lines", "tasks", "task_workers")


def feature_kinds():
    """The kinds of task the app registers (`config.add_task_kind`), for a worker built by hand."""
    return {kind.name: kind for kind in (HARVEST, REFRESH)}


@pytest.fixture
def clean(stack, upstream):
    clean_tasks(stack)
    yield stack
    upstream.configure(backoff=None)


def clean_tasks(stack):
    stack.clean()
    with stack.engine.begin() as connection:
        for table in TASK_TABLES:
            connection.execute(text(f"DELETE FROM {table}"))


def queue_task(stack, kind, params, delay=0, now=None):
    with stack.session_factory.begin() as dbsession:
        return add_task(dbsession, kind, params, delay, now=now).id


def harvest(stack, pages, q="python"):
    """A harvest task of `pages` pages, queued; its id."""
    return queue_task(stack, "harvest", {"q": q, "site": "stackoverflow", "sort": "activity",
                                         "pages": pages})


def stored_pages(stack):
    """The upstream pages stored, of every search."""
    with stack.session() as dbsession:
        return list(dbsession.scalars(select(FetchedPage.page).order_by(FetchedPage.page)))


def load_task(stack, task_id):
    with stack.session() as dbsession:
        task = dbsession.get(Task, task_id)
        dbsession.expunge(task)
        return task


def log_lines(stack, task_id):
    with stack.session() as dbsession:
        return list(dbsession.scalars(select(TaskLine.line).where(TaskLine.task_id == task_id)
                                      .order_by(TaskLine.id)))


def task_notices(pubsub, until_state, timeout=20.0):
    """`task` notices on the events channel up to the first one in `until_state`."""
    found = []
    for event in published(pubsub, "task", timeout):
        found.append(event)
        if event["state"] == until_state:
            return found
    raise AssertionError(f"no task notice in state {until_state!r}: {found}")

"""Cancelling a task, as both the task page and the JSON API do it: the queue's change and
the `task` notice that tells open pages of it, once committed."""

from . import queue
from .events import announce_after_commit


def cancel_and_announce(dbsession, task_id):
    """Cancel task `task_id` in `dbsession`'s transaction (queue.cancel_task) and announce it
    after the commit; TaskNotFound and TaskFinished go to the caller."""
    task = queue.cancel_task(dbsession, task_id)
    line = "cancelled" if task.state == "cancelled" else "cancel requested"
    announce_after_commit(dbsession, task, line)
    return task

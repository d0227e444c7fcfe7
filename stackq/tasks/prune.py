"""Finished tasks leave the history after `stackq.tasks.keep_days`."""

from datetime import timedelta

from sqlalchemy import delete, func, select

from ..infra.clock import utcnow
from ..models import Task, TaskLine
from ..models.tasks import FINISHED


def prune_finished(session_factory, keep_days, now=None):
    """Delete tasks finished more than `keep_days` ago (and their log); how many.

    The newest task always stays, so history numbers go on from it."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    with session_factory.begin() as dbsession:
        newest = dbsession.scalar(select(func.max(Task.id)))
        old = select(Task.id).where(Task.state.in_(FINISHED), Task.finished_at < cutoff,
                                    Task.id != newest)
        # Lines first: SQLite enforces ON DELETE CASCADE only with foreign keys on.
        dbsession.execute(delete(TaskLine).where(TaskLine.task_id.in_(old)))
        return dbsession.execute(delete(Task).where(Task.id.in_(old))).rowcount

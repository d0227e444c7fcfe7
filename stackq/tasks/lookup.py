"""What the task pages ask of the database besides the tasks themselves."""

from datetime import timedelta

from sqlalchemy import select

from ..models import SavedSearch, Task, Worker
from .worker import STALE_AFTER


def searches_by_id(dbsession, ids):
    """{id: SavedSearch} of those of `ids` that exist."""
    if not ids:
        return {}
    return {search.id: search
            for search in dbsession.scalars(select(SavedSearch).where(SavedSearch.id.in_(ids)))}


def running_number(dbsession):
    """The history number of the task running now, or None."""
    return dbsession.scalar(select(Task.number).where(Task.state == "running"))


def a_worker_is_alive(dbsession, now):
    """Whether some worker's heartbeat is recent enough for it to be running."""
    return dbsession.scalar(select(Worker.id).where(
        Worker.heartbeat_at >= now - timedelta(seconds=STALE_AFTER)).limit(1)) is not None

"""The refresh cycles recorded: what the front page and /status show of them."""

from sqlalchemy import select

from ..models import RefreshRun


def latest(dbsession, query):
    """The latest refresh cycle `query` selects, or None."""
    return dbsession.scalar(query.order_by(RefreshRun.started_at.desc(), RefreshRun.id.desc())
                            .limit(1))


def last_run(dbsession):
    """The latest refresh cycle (finished or not), or None."""
    return latest(dbsession, select(RefreshRun))


def last_finished_run(dbsession):
    """The latest refresh cycle that ran to its end, or None: one stopped, killed or cut short
    by a lost lock did not refresh everything it planned, so the next is due at once."""
    return latest(dbsession, select(RefreshRun).where(RefreshRun.state == "finished"))

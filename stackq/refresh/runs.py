"""The refresh cycles recorded: what the front page and /status show of them."""

from sqlalchemy import select

from ..models import RefreshRun


def last_run(dbsession):
    """The latest refresh cycle (finished or not), or None."""
    return dbsession.scalar(select(RefreshRun).order_by(RefreshRun.started_at.desc(),
                                                        RefreshRun.id.desc()).limit(1))

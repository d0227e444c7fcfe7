"""The notices stackq sends to browsers over `/ws` (their fields: docs/architecture.md).

A service queues a notice on the transaction that made the change (`queue_query_updated`);
once it has committed, `Announcer` publishes it: models.changes runs it after the cache
dropped the changed pages, and never for a transaction that rolled back.
"""

import logging
from datetime import timezone

import redis

from ..infra.pubsub import publish
from ..models.changes import queue_notice

log = logging.getLogger(__name__)


def iso_utc(moment):
    """`2026-11-22T10:00:00Z` from a naive-UTC or aware datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat() + "Z"


def query_updated(query_id, q, site, new, changed, removed, at):
    return {"type": "query_updated", "query_id": query_id, "q": q, "site": site,
            "new": new, "changed": changed, "removed": removed, "at": iso_utc(at)}


def queue_query_updated(dbsession, **fields):
    """Tell every web process (and so every open page) that a saved search changed, once
    `dbsession`'s transaction commits."""
    queue_notice(dbsession, query_updated(**fields))


class Announcer:
    """The after-commit listener that publishes what the transaction queued, in order."""

    def __init__(self, redis_client):
        self.redis = redis_client

    def __call__(self, committed):
        for notice in committed.notices:
            try:
                publish(self.redis, notice)
            except redis.RedisError as error:
                # The change is stored; only the live notices are lost.
                log.warning("could not publish the notices %s: %s",
                            [(n["type"], n.get("query_id", n.get("task_id")))
                             for n in committed.notices], error)
                return False
        return True

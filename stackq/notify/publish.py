"""The notices stackq sends to browsers over `/ws` (their fields: docs/architecture.md)."""

from datetime import timezone

from ..infra.pubsub import publish


def iso_utc(moment):
    """`2026-11-22T10:00:00Z` from a naive-UTC or aware datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat() + "Z"


def query_updated(query_id, q, site, new, changed, removed, at):
    return {"type": "query_updated", "query_id": query_id, "q": q, "site": site,
            "new": new, "changed": changed, "removed": removed, "at": iso_utc(at)}


def publish_query_updated(redis_client, **fields):
    """Tell every web process (and so every open page) that a saved search changed."""
    return publish(redis_client, query_updated(**fields))

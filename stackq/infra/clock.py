"""The time stackq stores: naive UTC datetimes, the same on SQLite and PostgreSQL."""

from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def naive_utc(moment):
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment else None

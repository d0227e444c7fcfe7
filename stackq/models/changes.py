"""Which saved searches a transaction changed, collected as its rows are written.

As warehouse's cache/origin: an `after_flush` listener records the search of every
ORM row written (a saved search itself, or any row with a `search_id` but what
browsers were told, `shown_questions`), and `upsert` records the rows it writes past
the ORM. Whoever commits the transaction acts on the ids afterwards (the response
cache drops the pages, the refresher tells browsers), so nothing is announced that
did not commit.
"""

from sqlalchemy import event

from .refresh import ShownQuestion
from .searches import SavedSearch

CHANGED = "stackq.changed_searches"  # session.info: ids of searches written
LISTED = "stackq.searches_listed_changed"  # session.info: a search was created or removed

# What browsers were last told a search shows: on no page, so writing it drops none.
UNSHOWN = {ShownQuestion.__tablename__}


def changed_searches(dbsession):
    """Ids of saved searches whose rows this session has written so far."""
    return dbsession.info.setdefault(CHANGED, set())


def take_changes(dbsession):
    """(search ids changed, True if the list of searches changed) since the last take."""
    return dbsession.info.pop(CHANGED, set()), dbsession.info.pop(LISTED, False)


def record_rows(dbsession, table, rows):
    """Record the searches of `rows` written to `table` by a Core statement."""
    if table.name == SavedSearch.__tablename__:
        dbsession.info[LISTED] = True
    elif "search_id" in table.c and table.name not in UNSHOWN:
        changed_searches(dbsession).update(row["search_id"] for row in rows)


def record_flush(dbsession, flush_context):
    for obj in (*dbsession.new, *dbsession.dirty, *dbsession.deleted):
        if isinstance(obj, SavedSearch):
            if obj in dbsession.new or obj in dbsession.deleted:
                dbsession.info[LISTED] = True
            changed_searches(dbsession).add(obj.id)
        elif (getattr(obj, "search_id", None) is not None
              and obj.__tablename__ not in UNSHOWN):
            changed_searches(dbsession).add(obj.search_id)


def track_changes(session_factory):
    event.listen(session_factory, "after_flush", record_flush)
    return session_factory

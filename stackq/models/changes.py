"""After a commit: what a transaction changed, acted on once it has committed, whoever commits.

As warehouse's cache/origin: an `after_flush` listener records the search of every
ORM row written (a saved search itself, or any row with a `search_id` but what
browsers were told, `shown_questions`), `upsert` records the rows it writes past the
ORM, and services queue the notices the change deserves (`queue_notice`). When the
session's transaction commits (pyramid_tm's, a script's `new_transaction`, a plain
`session.commit()`), the `AfterCommit` hook of its factory calls the listeners the app
registered, by stage: DROP (the response cache drops the changed searches' pages)
before TELL (notify publishes the notices), so a browser told of a change is never
served the page from before it (nor told, when the pages could not be dropped). A
transaction that rolls back or closes uncommitted leaves nothing behind. Models import
neither the cache nor notify: the packages above register their listeners
(`registry[AFTER_COMMIT].add(stage, listener)`).
"""

import logging
from dataclasses import dataclass

from sqlalchemy import event

from .refresh import ShownQuestion
from .searches import SavedSearch

log = logging.getLogger(__name__)

CHANGED = "stackq.changed_searches"  # session.info: ids of searches written
LISTED = "stackq.searches_listed_changed"  # session.info: the pages listing searches changed
NOTICES = "stackq.queued_notices"  # session.info: messages to publish once committed

# What browsers were last told a search shows: on no page, so writing it drops none.
UNSHOWN = {ShownQuestion.__tablename__}

DROP, TELL = "drop", "tell"  # the stages listeners run in, DROP first
STAGES = (DROP, TELL)


def changed_searches(dbsession):
    """Ids of saved searches whose rows this session has written so far."""
    return dbsession.info.setdefault(CHANGED, set())


def take_changes(dbsession):
    """(search ids changed, True if the list of searches changed) since the last take."""
    return dbsession.info.pop(CHANGED, set()), dbsession.info.pop(LISTED, False)


def listings_changed(dbsession):
    """Record that the pages listing every search change with this transaction, though no
    search's rows do (they show the last refresh cycle)."""
    dbsession.info[LISTED] = True


def queue_notice(dbsession, message):
    """Publish `message` (a JSON-able dict with a "type") once this transaction commits."""
    dbsession.info.setdefault(NOTICES, []).append(message)


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


@dataclass(frozen=True)
class Committed:
    """What one committed transaction changed, as every listener is handed it."""

    session: object  # the session that committed: a listener may leave a note in its `info`
    searches: frozenset  # ids of the saved searches whose rows it wrote
    listings: bool  # the pages listing every search changed
    notices: tuple  # the messages queued with `queue_notice`, in order


class AfterCommit:
    """The listeners called, by stage, once a session of the factory it hooks has committed.

    Nothing a listener does raises into the committer: the rows are committed. What it
    could not do (Redis down) it logs as a warning and returns False: the later stages
    are then skipped.
    """

    def __init__(self):
        self.listeners = {stage: [] for stage in STAGES}

    def add(self, stage, listener):
        """Call `listener(committed)` after every commit that changed something."""
        self.listeners[stage].append(listener)

    def committed(self, dbsession):
        if dbsession.in_nested_transaction():
            return  # a savepoint released: its transaction may still roll back
        searches, listings = take_changes(dbsession)
        notices = tuple(dbsession.info.pop(NOTICES, ()))
        if not (searches or listings or notices):
            return
        done = Committed(dbsession, frozenset(searches), listings, notices)
        for stage in STAGES:
            # Every listener of the stage, even after one failed.
            if not all([called(listener, done) for listener in self.listeners[stage]]):
                if stage != STAGES[-1] and notices:
                    log.warning("%d notices not sent: the pages they would reload could "
                                "not be dropped", len(notices))
                return

    def ended(self, dbsession, transaction):
        """Whatever a transaction that did not commit collected is forgotten with it."""
        if transaction.parent is None:
            for key in (CHANGED, LISTED, NOTICES):
                dbsession.info.pop(key, None)


def called(listener, committed):
    """False if `listener` says it failed, or raised (logged here)."""
    try:
        return listener(committed) is not False
    except Exception:
        log.exception("after-commit listener %r failed", listener)
        return False


def track_changes(session_factory, hook):
    event.listen(session_factory, "after_flush", record_flush)
    event.listen(session_factory, "after_commit", hook.committed)
    # After `after_commit` when it commits: by then the commit has taken what was collected.
    event.listen(session_factory, "after_transaction_end", hook.ended)
    return session_factory

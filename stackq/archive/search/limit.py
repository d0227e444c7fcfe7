"""A search stopped when it runs past `stackq.search.time_limit`, and kept off gevent's hub.

SQLite runs in the calling thread: under gevent, in the hub's, where a search of a few
seconds (a phrase of the commonest words over a large archive) would hold every other
request and WebSocket of the web process for as long. So a SQLite search runs in the hub's
thread pool (SQLite lets go of the GIL while it works), and a progress handler stops it at
the limit. PostgreSQL's statements already wait through the hub (psycogreen); the server
stops a statement itself (`statement_timeout`), inside a savepoint so that the request's
transaction goes on. Either way the caller gets `SearchTooSlow`, and nothing is written.
"""

import contextlib
import time

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from ...infra.blocking import off_the_loop

# SQLite asks the handler every this many virtual-machine steps: about every 20 µs of a
# search, for well under 1% of its time.
PROGRESS_STEPS = 1000
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE of a statement stopped by statement_timeout


class SearchTooSlow(Exception):
    """The search ran past its time limit and was stopped."""

    def __init__(self, seconds):
        super().__init__(f"the search ran past {seconds:g} s and was stopped")
        self.seconds = seconds


def limited(dbsession, seconds, work, *args):
    """`work(dbsession, *args)` within `time_limit`; on SQLite, off the hub's thread."""
    def run():
        with time_limit(dbsession, seconds):
            return work(dbsession, *args)

    if dbsession.get_bind().dialect.name != "sqlite":
        return run()
    # The connection is taken here, in the request's greenlet: a pool's locks are gevent's,
    # not to be waited on from another thread.
    dbsession.connection()
    return off_the_loop(run)


@contextlib.contextmanager
def time_limit(dbsession, seconds):
    """Stop the statements run inside once they have taken `seconds` in all; raise
    SearchTooSlow."""
    if dbsession.get_bind().dialect.name == "sqlite":
        engine_limit = _sqlite_limit
    else:
        engine_limit = _postgresql_limit
    try:
        with engine_limit(dbsession, seconds):
            yield
    except DBAPIError as error:
        if _stopped(error):
            raise SearchTooSlow(seconds) from error
        raise


def _stopped(error):
    if getattr(error.orig, "pgcode", None) == QUERY_CANCELED:
        return True
    return error.orig.__class__.__module__ == "sqlite3" and "interrupted" in str(error.orig)


@contextlib.contextmanager
def _sqlite_limit(dbsession, seconds):
    raw = dbsession.connection().connection.driver_connection
    deadline = time.monotonic() + seconds
    raw.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
    try:
        yield  # an interrupted read leaves the transaction as it was
    finally:
        raw.set_progress_handler(None, 0)


@contextlib.contextmanager
def _postgresql_limit(dbsession, seconds):
    deadline = time.monotonic() + seconds
    connection = dbsession.connection()

    def what_is_left(conn, cursor, statement, parameters, context, executemany):
        # Each statement may take what the ones before it left of the search's time.
        left = max(1, int((deadline - time.monotonic()) * 1000))
        cursor.execute(f"SET LOCAL statement_timeout = {left}")

    # A stopped statement fails the whole transaction: the savepoint takes the failure (and
    # the setting) back; after a search that finished, the setting is taken back by hand.
    with dbsession.begin_nested():
        event.listen(connection, "before_cursor_execute", what_is_left)
        try:
            yield
        finally:
            event.remove(connection, "before_cursor_execute", what_is_left)
        dbsession.execute(text("SET LOCAL statement_timeout TO DEFAULT"))

"""Database models, engine and sessions: the request's, bound to its transaction, a script's
(`new_transaction`); every one from `get_session_factory`, which hooks what a commit changed
to the app's listeners (`changes.AfterCommit`)."""

import contextlib
import os

import transaction
from sqlalchemy import engine_from_config, event, make_url
from sqlalchemy.exc import DBAPIError as DatabaseError  # noqa: F401  (views map it to a 503)
from sqlalchemy.orm import configure_mappers, sessionmaker

from ..infra.registry import AFTER_COMMIT, DBSESSION_FACTORY
from . import sqlite_functions
from .accounts import ApiToken, User  # noqa: F401
from .answers import Answer  # noqa: F401

# Import every model so that relationships resolve before use.
from .changes import AfterCommit, track_changes
from .meta import Base  # noqa: F401
from .questions import Owner, Question, joined_tags, tag_names  # noqa: F401
from .refresh import RefreshRun, ShownQuestion  # noqa: F401
from .searches import FetchedPage, SavedSearch, SearchPosition, SearchResult  # noqa: F401
from .sites import Site  # noqa: F401
from .tasks import Task, TaskLine, Worker  # noqa: F401
from .transactions import TRANSACTION, join_transactions
from .watch import SearchEvent  # noqa: F401

configure_mappers()

# Connections kept open per process: one for each request the admission gate lets in at once
# (stackq/server/admission.py). With fewer, each request past them opened a connection and closed
# it again (for PostgreSQL a new server process each time): a twentieth of a busy worker.
POOL_SIZE = 16


def get_engine(settings, prefix="sqlalchemy."):
    # pool_pre_ping: a pooled connection the server dropped (restart, pg_terminate_backend)
    # is replaced at checkout instead of failing the request that draws it. SQLite has no
    # server to drop one: no ping per checkout.
    url = make_url(settings[prefix + "url"])
    options = {"pool_pre_ping": url.get_backend_name() != "sqlite"}
    if prefix + "pool_size" not in settings and url.database not in (None, "", ":memory:"):
        # Last in, first out: the connection used last, whose caches (SQLite's pages, the
        # statements PostgreSQL prepared) are warm, serves the next request.
        options.update(pool_size=POOL_SIZE, pool_use_lifo=True)
    engine = engine_from_config(settings, prefix, **options)
    if engine.dialect.driver == "psycopg2":
        green_psycopg2()
    if engine.dialect.name == "sqlite":
        if engine.url.database and engine.url.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(engine.url.database)), exist_ok=True)
        event.listen(engine, "connect", _sqlite_connected)
    return engine


# What PostgreSQL (SQLSTATE) and SQLite say of a table or column the code knows and the
# schema has not: the database was never set up, or is behind this version's migrations.
UNDEFINED_TABLE_OR_COLUMN = {"42P01", "42703"}
SQLITE_MISSING = ("no such table", "no such column", "has no column named")


def schema_behind(error):
    """Whether a `DatabaseError` means the schema is missing or older than the code."""
    if getattr(error.orig, "pgcode", None) in UNDEFINED_TABLE_OR_COLUMN:
        return True
    message = str(error.orig)
    return any(words in message for words in SQLITE_MISSING)


def green_psycopg2():
    """Under gevent (pserve's runner, gunicorn's gevent worker) psycopg2 must yield."""
    from ..infra.gevent_repair import patch_psycopg

    patch_psycopg()


def _sqlite_connected(dbapi_connection, connection_record):
    # WAL lets readers go on while the refresher writes; foreign keys are off by default.
    # Then the functions stackq's own reads use (sqlite_functions).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    sqlite_functions.register(dbapi_connection)


def get_session_factory(engine, after_commit=None):
    """The one place sessions are made: joined to their transaction manager, recording what
    they write, and calling `after_commit`'s listeners once they commit (the app's, see
    includeme; without one, the factory's hook has no listeners: stackq_export only reads)."""
    # Objects stay loaded after a commit: a request that ends its reads before an
    # API call (end_reads) goes on using them without a query per attribute.
    factory = sessionmaker(expire_on_commit=False)
    factory.configure(bind=engine)
    return join_transactions(track_changes(factory, after_commit or AfterCommit()))


def get_tm_session(session_factory, transaction_manager, request=None):
    """A session joined to `transaction_manager`: it commits or aborts with it.

    `session_factory` is one `get_session_factory` made: its listeners do the joining.
    """
    return session_factory(info={"request": request, TRANSACTION: transaction_manager})


@contextlib.contextmanager
def new_transaction(session_factory):
    """A session in a short transaction of its own (a script's, a task's): committed at the
    end of the block, aborted if it raises; the factory's after-commit hook acts on it."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        yield get_tm_session(session_factory, manager)


def end_reads(dbsession):
    """End the session's transaction (reads only so far) before a slow call, e.g. the API.

    A transaction holds a pooled connection from its first query to its end, so
    one left open across an API call holds a connection per waiting visitor.
    The next query begins a new transaction. A transaction that is not ours to
    end (a test's doomed one, wrapping the whole test) is left as it is.
    """
    manager = dbsession.info.get(TRANSACTION)
    if manager is None or manager.isDoomed():
        return
    manager.commit()
    manager.begin()


def includeme(config):
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"

    config.include("pyramid_tm")
    config.include("pyramid_retry")

    dbengine = settings.get("dbengine")
    if not dbengine:
        dbengine = get_engine(settings)

    # The packages above add their listeners to it (the cache, notify): every session of
    # the app and of the commands that build it (bootstrap) calls them after a commit.
    after_commit = config.registry[AFTER_COMMIT] = AfterCommit()
    session_factory = get_session_factory(dbengine, after_commit)
    config.registry[DBSESSION_FACTORY] = session_factory

    def dbsession(request):
        # Tests hand their own session in through the environ.
        dbsession = request.environ.get("app.dbsession")
        if dbsession is None:
            dbsession = get_tm_session(session_factory, request.tm, request=request)
        return dbsession

    config.add_request_method(dbsession, reify=True)

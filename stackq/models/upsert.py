"""INSERT ... ON CONFLICT for the two databases stackq runs on, and values made to fit the
columns they go to."""

from sqlalchemy.dialects import postgresql, sqlite
from zope.sqlalchemy import mark_changed

from .changes import record_rows

DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def fitted(column, value):
    """`value` cut to the length of `column` (a String(n) column): PostgreSQL refuses a longer
    one, and with it every row of the statement (a whole page of the API's questions)."""
    length = getattr(column.type, "length", None)
    return value[:length] if isinstance(value, str) and length else value


def stored_link(column, url):
    """`url` if it is an http(s) address `column` holds whole, else None. Links are shown as
    hrefs: nothing but http(s) may reach a page, and a cut address leads nowhere."""
    if url and url.startswith(("https://", "http://")) and len(url) <= column.type.length:
        return url
    return None


def upsert(dbsession, table, rows, keys, returning=()):
    """Insert `rows`, updating every non-key column of rows whose `keys` exist.

    Concurrent writers of the same rows (two pages fetched at once, the
    refresher beside a web request) meet in the database, not in Python.
    """
    insert = DIALECT_INSERTS[dbsession.get_bind().dialect.name]
    table = getattr(table, "__table__", table)
    # Rows are locked in the order given: one order (by key) for every writer, so two
    # writers of shared rows (owners, questions) queue instead of deadlocking.
    rows = sorted(rows, key=lambda row: tuple(row[name] for name in keys))
    stmt = insert(table).values(rows)
    updates = {name: stmt.excluded[name] for name in rows[0] if name not in keys}
    if updates:
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_=updates)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    if returning:
        stmt = stmt.returning(*(table.c[name] for name in returning))
    result = dbsession.execute(stmt)
    # Core statements bypass the ORM unit of work: tell the transaction to commit,
    # and record which searches changed.
    mark_changed(dbsession)
    record_rows(dbsession, table, rows)
    return result

"""full-text search: an FTS5 index (SQLite) or a weighted tsvector (PostgreSQL), filled
from the questions and answers already stored

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 03:00:00
"""

import logging
import time

import sqlalchemy as sa
from alembic import op

from stackq.models import fulltext

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

log = logging.getLogger("stackq.migrations")
BATCH = 5000  # question ids a statement indexes; a line of progress after each


def execute(statement):
    op.execute(sa.text(statement))


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        fulltext.register_sqlite_functions(bind.connection.dbapi_connection)
        fulltext.sqlite_create(execute)
        fill(bind, fulltext.sqlite_fill)
    else:
        fulltext.pg_create(execute, with_unaccent(bind))
        fill(bind, fulltext.pg_fill)
        log.info("search index: building the GIN index")
        execute(fulltext.PG_INDEX)


def with_unaccent(bind):
    """Whether `unaccent` is there, created here if the server has it and we may."""
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except sa.exc.DBAPIError as error:
        log.warning("search index: no unaccent (%s); accents are kept as written",
                    str(error.orig).strip())
        return False
    return True


def fill(bind, fill_batch):
    """Index what is stored, a batch of ids at a time, saying how far it got."""
    count, first, last = bind.execute(
        sa.text("SELECT count(*), min(id), max(id) FROM questions")).one()
    if not count:
        return
    log.info("search index: indexing %d stored questions and their answers", count)
    started, done = time.monotonic(), 0
    for start in range(first, last + 1, BATCH):
        fill_batch(execute, start, start + BATCH - 1)
        done = bind.execute(sa.text("SELECT count(*) FROM questions WHERE id <= :last"),
                            {"last": start + BATCH - 1}).scalar()
        log.info("search index: %d of %d questions (%.0f s)", done, count,
                 time.monotonic() - started)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        fulltext.sqlite_drop(execute)
    else:
        fulltext.pg_drop(execute)

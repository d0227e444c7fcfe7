"""full-text search: the plain text of bodies (body_text), an FTS5 index of questions and
one of answers (SQLite) or a weighted tsvector on each (PostgreSQL), filled from what is
already stored

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 03:00:00
"""

import logging

import sqlalchemy as sa
from alembic import op

from stackq.models import fulltext
from stackq.models.migration_batches import each_batch

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

log = logging.getLogger("stackq.migrations")
TABLES = ("questions", "answers")


def execute(statement):
    op.execute(sa.text(statement))


def upgrade():
    bind = op.get_bind()
    for table in TABLES:
        op.add_column(table, sa.Column("body_text", sa.Text(), nullable=True))
        each_batch(bind, table, "plain text", lambda first, last, table=table:
                   write_plain_text(bind, table, first, last))
    if bind.dialect.name == "sqlite":
        fulltext.sqlite_create(execute)
        for table in TABLES:
            each_batch(bind, table, "search index", lambda first, last, table=table:
                       fulltext.sqlite_fill(execute, table, first, last))
    else:
        fulltext.pg_create(execute, with_unaccent(bind))
        for table in TABLES:
            each_batch(bind, table, "search index", lambda first, last, table=table:
                       fulltext.pg_fill(execute, table, first, last))
        log.info("search index: building the GIN indexes")
        for statement in fulltext.PG_INDEXES:
            execute(statement)


def write_plain_text(bind, table, first, last):
    rows = bind.execute(sa.text(f"SELECT id, body FROM {table} WHERE body IS NOT NULL "
                                "AND id BETWEEN :first AND :last"),
                        {"first": first, "last": last}).all()
    if rows:
        bind.execute(sa.text(f"UPDATE {table} SET body_text = :text WHERE id = :id"),
                     [{"id": row_id, "text": fulltext.plain_text(body)}
                      for row_id, body in rows])


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


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        fulltext.sqlite_drop(execute)
    else:
        fulltext.pg_drop(execute)
    for table in TABLES:
        execute(f"ALTER TABLE {table} DROP COLUMN body_text")

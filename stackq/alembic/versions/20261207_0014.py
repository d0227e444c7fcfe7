"""search on PostgreSQL: each question's thread (its text and its answers') as one narrow
row of `search_threads` with the columns a search counts and sorts by, under one GIN index,
in place of 0010's vector per question and per answer, and each site's and tag's number of
questions (`search_totals`); filled from what is stored. SQLite: nothing (0013 did the same
there).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:30:00
"""

import logging

import sqlalchemy as sa
from alembic import op

from stackq.models import fulltext, fulltext_pg
from stackq.models.migration_batches import each_batch

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

log = logging.getLogger("stackq.migrations")


def execute(statement):
    op.execute(sa.text(statement))


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return
    fulltext_pg.create(execute)
    each_batch(bind, "questions", "search threads",
               lambda first, last: fulltext_pg.fill(execute, first, last))
    log.info("search threads: counting the questions of each site and tag")
    fulltext_pg.create_totals(execute)
    log.info("search threads: building the GIN index")
    for statement in fulltext_pg.INDEXES:
        execute(statement)
    fulltext.pg_drop(execute, configuration=False)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return
    fulltext_pg.drop(execute)
    fulltext.pg_create(execute, with_unaccent=False, configuration=False)
    for table in ("questions", "answers"):
        each_batch(bind, table, "search index", lambda first, last, table=table:
                   fulltext.pg_fill(execute, table, first, last))
    for statement in fulltext.PG_INDEXES:
        execute(statement)

"""search: each question's thread (its text and its answers') as one document of an index of
words, `search_threads` (SQLite), so a question with every word is one MATCH, and how many
questions each site and tag has (`search_site_totals`, `search_tag_totals`); filled from what
is stored. PostgreSQL: nothing yet.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:00
"""

import sqlalchemy as sa
from alembic import op

from stackq.models import fulltext_threads
from stackq.models.migration_batches import each_batch

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def execute(statement):
    op.execute(sa.text(statement))


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    fulltext_threads.sqlite_create_threads(execute)
    fulltext_threads.sqlite_fill_totals(execute)
    each_batch(bind, "questions", "search threads", lambda first, last:
               fulltext_threads.sqlite_fill_threads(execute, first, last))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        fulltext_threads.sqlite_drop_threads(execute)

"""search on SQLite: a question's thread can be held out of the index while its answers are
written, then put back once (`search_threads_held`), not rebuilt for each answer.
PostgreSQL: nothing (0014 makes a thread once at commit).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:10:00
"""

import sqlalchemy as sa
from alembic import op

from stackq.models import fulltext_threads

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def execute(statement):
    op.execute(sa.text(statement))


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        fulltext_threads.sqlite_hold_threads(execute)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        fulltext_threads.sqlite_hold_threads(execute, held=False)

"""search on PostgreSQL: threads and totals are made once a transaction, not looked for at
every row's deferred trigger; a thread too long for one tsvector is made from its first
100,000 characters instead of failing its transaction (models/fulltext_pg_commit.py).
SQLite: nothing.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 22:00:00
"""

import sqlalchemy as sa
from alembic import op

from stackq.models import fulltext_pg_commit

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def execute(statement):
    op.execute(sa.text(statement))


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        fulltext_pg_commit.upgrade(execute)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        fulltext_pg_commit.downgrade(execute)

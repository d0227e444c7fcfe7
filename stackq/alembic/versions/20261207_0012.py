"""search_events.entry: each event's Atom entry text, written once when it is recorded

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 03:30:00
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # Events recorded before stay empty here: a feed holding one renders from the columns.
    with op.batch_alter_table('search_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entry', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('search_events', schema=None) as batch_op:
        batch_op.drop_column('entry')

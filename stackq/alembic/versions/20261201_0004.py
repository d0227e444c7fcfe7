"""saved searches: opened_at, total_at, seen_activity (refresh within the daily quota)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 07:30:00
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('saved_searches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('total_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('seen_activity', sa.DateTime(), nullable=True))
    # A total stored before this revision was counted when the search was last refreshed.
    op.execute("UPDATE saved_searches SET total_at = refreshed_at")


def downgrade():
    with op.batch_alter_table('saved_searches', schema=None) as batch_op:
        batch_op.drop_column('seen_activity')
        batch_op.drop_column('total_at')
        batch_op.drop_column('opened_at')

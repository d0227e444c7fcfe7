"""tasks.client: who queued a task, so each client's unfinished tasks can be counted

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 00:20:00
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_tasks_client', ['client', 'state'], unique=False)


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_client')
        batch_op.drop_column('client')

"""search_events: each saved search's change history; shown_questions.watched: its "from"

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:20:00
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'search_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('search_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=True),
        sa.Column('api_id', sa.BigInteger(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('changes', sa.Text(), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['question_id'], ['questions.id'],
                                name=op.f('fk_search_events_question_id_questions'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['search_id'], ['saved_searches.id'],
                                name=op.f('fk_search_events_search_id_saved_searches'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_events')),
    )
    with op.batch_alter_table('search_events', schema=None) as batch_op:
        batch_op.create_index('ix_search_events_search', ['search_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_events_seen_at'), ['seen_at'],
                              unique=False)
    with op.batch_alter_table('shown_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('watched', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('shown_questions', schema=None) as batch_op:
        batch_op.drop_column('watched')
    with op.batch_alter_table('search_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_events_seen_at'))
        batch_op.drop_index('ix_search_events_search')
    op.drop_table('search_events')

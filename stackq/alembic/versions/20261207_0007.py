"""the archive: each question's body and when its answers were stored; the answers table

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 01:20:00
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('answers_at', sa.DateTime(), nullable=True))
    op.create_table(
        'answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('is_accepted', sa.Boolean(), nullable=False),
        sa.Column('creation_date', sa.DateTime(), nullable=False),
        sa.Column('last_activity_date', sa.DateTime(), nullable=False),
        sa.Column('last_edit_date', sa.DateTime(), nullable=True),
        sa.Column('content_license', sa.String(length=40), nullable=True),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('stored_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['owners.id'], name=op.f('fk_answers_owner_id_owners')),
        sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='CASCADE',
                                name=op.f('fk_answers_question_id_questions')),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_answers_site_id_sites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_answers')),
        sa.UniqueConstraint('site_id', 'answer_id', name=op.f('uq_answers_site_id')),
    )
    op.create_index('ix_answers_question', 'answers', ['question_id', 'is_accepted', 'score'],
                    unique=False)


def downgrade():
    op.drop_index('ix_answers_question', table_name='answers')
    op.drop_table('answers')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('answers_at')
        batch_op.drop_column('body')

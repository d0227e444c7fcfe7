"""questions.tags: a question's tag names beside it, in place of the tags tables

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 14:00:00
"""

from itertools import groupby

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BATCH = 1000

questions = sa.table('questions', sa.column('id', sa.Integer), sa.column('tags', sa.Text))
tags = sa.table('tags', sa.column('id', sa.Integer), sa.column('name', sa.String))
question_tags = sa.table('question_tags', sa.column('question_id', sa.Integer),
                         sa.column('tag_id', sa.Integer), sa.column('position', sa.Integer))


def upgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tags', sa.Text(), server_default='', nullable=False))
    # In Python, not in SQL: SQLite cannot order inside group_concat.
    bind = op.get_bind()
    links = bind.execute(
        sa.select(question_tags.c.question_id, tags.c.name)
        .join(tags, tags.c.id == question_tags.c.tag_id)
        .order_by(question_tags.c.question_id, question_tags.c.position))
    update = (questions.update().where(questions.c.id == sa.bindparam('pk'))
              .values(tags=sa.bindparam('joined')))
    rows = [{'pk': pk, 'joined': ' '.join(name for _, name in group)}
            for pk, group in groupby(links, key=lambda link: link[0])]
    for start in range(0, len(rows), BATCH):
        bind.execute(update, rows[start:start + BATCH])
    op.drop_table('question_tags')
    op.drop_table('tags')


def downgrade():
    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('name', name=op.f('uq_tags_name'))
    )
    op.create_table('question_tags',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_question_tags_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_question_tags_tag_id_tags')),
    sa.PrimaryKeyConstraint('question_id', 'tag_id', name=op.f('pk_question_tags'))
    )
    bind = op.get_bind()
    tagged = [(pk, joined.split()) for pk, joined in
              bind.execute(sa.select(questions.c.id, questions.c.tags)
                           .where(questions.c.tags != '').order_by(questions.c.id))]
    names = sorted({name for _, split in tagged for name in split})
    ids = {name: i for i, name in enumerate(names, 1)}
    if names:
        bind.execute(tags.insert(), [{'id': i, 'name': name} for name, i in ids.items()])
    links = [{'question_id': pk, 'tag_id': ids[name], 'position': position}
             for pk, split in tagged for position, name in enumerate(split)]
    for start in range(0, len(links), BATCH):
        bind.execute(question_tags.insert(), links[start:start + BATCH])
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('tags')

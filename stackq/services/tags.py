"""The tags of stored questions, in each question's own order: one statement for a batch."""

from sqlalchemy import bindparam, select

from ..models import Tag, question_tags

TAG_NAMES = (
    select(question_tags.c.question_id, Tag.name)
    .join(Tag, Tag.id == question_tags.c.tag_id)
    .where(question_tags.c.question_id.in_(bindparam("ids", expanding=True)))
    .order_by(question_tags.c.question_id, question_tags.c.position)
)


def tags_of(executor, row_ids):
    """{question row id: [tag names]} for `row_ids`; `executor`: a session or a connection."""
    tags = {pk: [] for pk in row_ids}
    if tags:
        for pk, name in executor.execute(TAG_NAMES, {"ids": list(tags)}):
            tags[pk].append(name)
    return tags

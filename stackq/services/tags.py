"""The tags of stored questions, in each question's own order: one statement for a batch."""

from sqlalchemy import bindparam, select

from ..models import Tag, question_tags


def tag_names(question_ids):
    """The (question row id, tag name) of the questions `question_ids` (a list parameter, or
    a select of ids: a page's own criteria, cheaper than a list expanded each time)."""
    return (
        select(question_tags.c.question_id, Tag.name)
        .join(Tag, Tag.id == question_tags.c.tag_id)
        .where(question_tags.c.question_id.in_(question_ids))
        .order_by(question_tags.c.question_id, question_tags.c.position)
    )


TAG_NAMES = tag_names(bindparam("ids", expanding=True))


def tags_of(executor, row_ids, statement=TAG_NAMES, params=None):
    """{question row id: [tag names]} for `row_ids`; `executor`: a session or a connection.

    `statement` (with `params`) may select the tags of those questions by other criteria.
    Those may find other questions too (a refresh committed between this statement and the
    one that read `row_ids`): their tags are not asked for.
    """
    tags = {pk: [] for pk in row_ids}
    if tags:
        # All rows at once: a fifth cheaper than fetching them one by one.
        for pk, name in executor.execute(statement, params or {"ids": list(tags)}).all():
            if pk in tags:
                tags[pk].append(name)
    return tags

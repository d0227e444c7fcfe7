from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from .meta import Base


class Owner(Base):
    """The user who asked; deleted users have no user_id, so `owner_key` identifies them."""

    __tablename__ = "owners"
    __table_args__ = (UniqueConstraint("site_id", "owner_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    owner_key: Mapped[str] = mapped_column(String(250))
    user_id: Mapped[int | None]
    display_name: Mapped[str] = mapped_column(String(200))
    user_type: Mapped[str] = mapped_column(String(40))
    reputation: Mapped[int | None]
    link: Mapped[str | None] = mapped_column(String(500))


class Question(Base):
    """One question of one site, as the API's `withbody` filter describes it."""

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("site_id", "question_id"),
        # Sorts done in the database (title, answers, views) walk these.
        Index("ix_questions_title", "title", "id"),
        Index("ix_questions_answer_count", "answer_count", "id"),
        Index("ix_questions_view_count", "view_count", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    question_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(500))
    link: Mapped[str] = mapped_column(String(1000))
    score: Mapped[int]
    answer_count: Mapped[int]
    view_count: Mapped[int]
    is_answered: Mapped[bool] = mapped_column(Boolean)
    accepted_answer_id: Mapped[int | None]
    closed_reason: Mapped[str | None] = mapped_column(String(100))
    content_license: Mapped[str | None] = mapped_column(String(40))
    creation_date: Mapped[datetime] = mapped_column(DateTime)
    last_activity_date: Mapped[datetime] = mapped_column(DateTime)
    last_edit_date: Mapped[datetime | None] = mapped_column(DateTime)
    closed_date: Mapped[datetime | None] = mapped_column(DateTime)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"))
    stored_at: Mapped[datetime] = mapped_column(DateTime)
    # The tag names in the API's order (the site's), one space between: `joined_tags`.
    # Beside the question, not in a table of their own: every page, report and refresh
    # reads them with the question, and a second statement for them cost a page a tenth.
    tags: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Sanitised HTML (stackexchange/bodies.py); None until a call with bodies has read it.
    body: Mapped[str | None] = mapped_column(Text)
    # The body's words (fulltext.plain_text), written with it: what the search index holds.
    # Read by the index alone, so never loaded with the question.
    body_text: Mapped[str | None] = deferred(mapped_column(Text))
    # When its answers were last stored (the archive); None: never fetched.
    answers_at: Mapped[datetime | None] = mapped_column(DateTime)

    owner: Mapped[Owner | None] = relationship(lazy="joined")

    def url(self, site):
        return question_url(site, self.link, self.question_id)


def question_url(site, link, question_id):
    """The question on its site; never a link of another scheme from upstream data."""
    if link.startswith(site.site_url + "/"):
        return link
    return site.question_url(question_id)


def joined_tags(names):
    """The `tags` column's text for `names`: each once, in order. A name holds no space (the
    API's are lower-case letters, digits and `+#.-`); one sent with spaces is split there."""
    return " ".join(dict.fromkeys(part for name in names for part in name.split()))


def tag_names(tags):
    """The tag names of a `tags` column's text, in order."""
    return tuple(tags.split())

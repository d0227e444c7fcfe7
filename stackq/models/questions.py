from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base

question_tags = Table(
    "question_tags",
    Base.metadata,
    Column("question_id", ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True),
    # The API's own tag order, which is what the site shows.
    Column("position", Integer, nullable=False, default=0),
)


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


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Question(Base):
    """One question of one site, as the API's default filter describes it."""

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

    owner: Mapped[Owner | None] = relationship(lazy="joined")
    tags: Mapped[list[Tag]] = relationship(
        secondary=question_tags, order_by=question_tags.c.position, lazy="selectin"
    )

    def url(self, site):
        return question_url(site, self.link, self.question_id)


def question_url(site, link, question_id):
    """The question on its site; never a link of another scheme from upstream data."""
    if link.startswith(site.site_url + "/"):
        return link
    return site.question_url(question_id)

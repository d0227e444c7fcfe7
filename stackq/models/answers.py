"""Answers of stored questions: the archive keeps them beside their question."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from .meta import Base
from .questions import Owner, Question


class Answer(Base):
    """One answer; `question_id` is the row id of its question (questions.id)."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("site_id", "answer_id"),
        Index("ix_answers_question", "question_id", "is_accepted", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    answer_id: Mapped[int]
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    score: Mapped[int]
    is_accepted: Mapped[bool] = mapped_column(Boolean)
    creation_date: Mapped[datetime] = mapped_column(DateTime)
    last_activity_date: Mapped[datetime] = mapped_column(DateTime)
    last_edit_date: Mapped[datetime | None] = mapped_column(DateTime)
    content_license: Mapped[str | None] = mapped_column(String(40))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"))
    body: Mapped[str | None] = mapped_column(Text)  # sanitised HTML
    # Its words (fulltext.plain_text), written with it, for the search index alone.
    body_text: Mapped[str | None] = deferred(mapped_column(Text))
    stored_at: Mapped[datetime] = mapped_column(DateTime)

    owner: Mapped[Owner | None] = relationship(lazy="joined")
    question: Mapped[Question] = relationship()

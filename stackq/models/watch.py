"""What each saved search saw change: the history behind its changes page and Atom feed."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base

# What happened to a question in a search: the kinds of SearchEvent.
NEW, CHANGED, REMOVED = "new", "changed", "removed"


class SearchEvent(Base):
    """One question new to, changed in, or removed from a saved search, when stackq saw it.

    Written by the refresh or harvest that stored the change, in its transaction; `changes`
    holds what changed as JSON `[[field, from, to], ...]` (empty for new and removed). The
    title and the API's id are kept with it: a question deleted upstream leaves the database
    (`question_id` is then empty), its "removed" event stays.
    """

    __tablename__ = "search_events"
    __table_args__ = (Index("ix_search_events_search", "search_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    search_id: Mapped[int] = mapped_column(
        ForeignKey("saved_searches.id", ondelete="CASCADE"))
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL"))
    api_id: Mapped[int] = mapped_column(BigInteger)  # the question's id on its site
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))  # new, changed, removed
    changes: Mapped[str] = mapped_column(Text, default="[]")
    seen_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    # The Atom entry's title, date, summary, categories and author (watch/feed.py), written
    # when the event is recorded; None for events recorded before there was one.
    entry: Mapped[str | None] = mapped_column(Text)

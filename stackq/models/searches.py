from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base
from .sites import Site


class SavedSearch(Base):
    """A search of one site, kept and refreshed; (site, q, tagged) is unique."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("site_id", "q", "tagged"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    q: Mapped[str] = mapped_column(String(500))
    # Tags joined by ";" in a canonical order; "" when not tagged.
    tagged: Mapped[str] = mapped_column(String(500), default="")
    total: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(DateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When someone last opened its results (at most once a minute): the refresher's priority.
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When `total` was last counted by the API (between, it moves by what refreshes find).
    total_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The newest last_activity_date (the API's clock) up to which its own refreshes have
    # asked what changed: the next one asks from here, less an overlap.
    seen_activity: Mapped[datetime | None] = mapped_column(DateTime)
    # Paused by its owner: no refresh cycle nor "Refresh now" spends a call on it.
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    site: Mapped[Site] = relationship(lazy="joined")

    @property
    def tag_list(self):
        return self.tagged.split(";") if self.tagged else []


class SearchResult(Base):
    """A question belongs to a search's stored results (for sorts done in the database)."""

    __tablename__ = "search_results"

    search_id: Mapped[int] = mapped_column(
        ForeignKey("saved_searches.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True
    )


class SearchPosition(Base):
    """The question at 1-based `position` of the upstream result in (sort, direction)."""

    __tablename__ = "search_positions"
    __table_args__ = (Index("ix_search_positions_question", "question_id"),)

    search_id: Mapped[int] = mapped_column(
        ForeignKey("saved_searches.id", ondelete="CASCADE"), primary_key=True
    )
    sort: Mapped[str] = mapped_column(String(20), primary_key=True)
    direction: Mapped[str] = mapped_column(String(4), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))


class FetchedPage(Base):
    """An upstream page (100 rows) of a search in one order, stored at `fetched_at`."""

    __tablename__ = "fetched_pages"

    search_id: Mapped[int] = mapped_column(
        ForeignKey("saved_searches.id", ondelete="CASCADE"), primary_key=True
    )
    sort: Mapped[str] = mapped_column(String(20), primary_key=True)
    direction: Mapped[str] = mapped_column(String(4), primary_key=True)
    page: Mapped[int] = mapped_column(primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    has_more: Mapped[bool] = mapped_column(Boolean)
    item_count: Mapped[int]

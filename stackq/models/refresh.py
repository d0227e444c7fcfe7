"""What the refresher records: each cycle, and what each search last showed."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class RefreshRun(Base):
    """One refresh cycle over every saved search.

    A cycle killed mid-way keeps `finished_at` empty; the next cycle marks it
    "interrupted" (only the holder of the refresh lock runs a cycle, so any
    other unfinished run is dead).
    """

    __tablename__ = "refresh_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # running, finished, stopped (SIGTERM/SIGINT), interrupted (killed), lock_lost
    state: Mapped[str] = mapped_column(String(20), default="running")
    # host:pid of the refresher that ran it
    runner: Mapped[str] = mapped_column(String(200), default="")
    searches: Mapped[int] = mapped_column(default=0)
    calls: Mapped[int] = mapped_column(default=0)
    # new + changed + removed questions, over every search of the cycle
    changes: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)


class ShownQuestion(Base):
    """A question as a saved search last showed it, reduced to a fingerprint.

    Questions are shared between searches: once one search's refresh has
    updated a question's row, the next search must still see it as changed,
    so each search keeps its own memory of what it showed.
    """

    __tablename__ = "shown_questions"

    search_id: Mapped[int] = mapped_column(
        ForeignKey("saved_searches.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str] = mapped_column(String(40))
    # What a change history tells of it (title, score, answers, accepted, closed) as JSON:
    # the "from" of the next change, whichever search's refresh rewrote the row meanwhile.
    watched: Mapped[str | None] = mapped_column(Text)

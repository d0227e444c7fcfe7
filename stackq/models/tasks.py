"""The task queue: tasks, their log lines, and the workers that run them (heartbeats)."""

import re
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from .meta import Base

STATES = ("pending", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def readable(value):
    """`value` (loaded JSON) with each lone surrogate replaced by U+FFFD."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {readable(key): readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [readable(item) for item in value]
    return value


class ReadableJSON(TypeDecorator):
    """JSON whose strings always encode. JSON may spell a lone surrogate (`"\\ud800"`), which
    is no character: the API refuses one now (tasks.validation), but a row stored before
    holds it, and every page showing that row failed to encode it (a 500 for everyone)."""

    impl = JSON
    cache_ok = True

    def process_result_value(self, value, dialect):
        return readable(value)


class Task(Base):
    """One queued piece of work; the database is the queue's only source of truth.

    At most one row is `running` (a partial unique index), so one task runs at a
    time across every worker and host, whatever they race.
    """

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_one_running", "state", unique=True,
              postgresql_where=text("state = 'running'"),
              sqlite_where=text("state = 'running'")),
        Index("ix_tasks_due", "state", "run_after", "id"),
        Index("ix_tasks_client", "client", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # Place in the history, 1, 2, 3... in creation order (ids may have gaps).
    number: Mapped[int] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    delay: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(DateTime)
    params: Mapped[dict] = mapped_column(ReadableJSON)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    result: Mapped[dict | None] = mapped_column(ReadableJSON)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # Runs started and not finished (a worker killed, or stopped by SIGTERM).
    attempts: Mapped[int] = mapped_column(default=0)
    worker_id: Mapped[str | None] = mapped_column(String(200))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who queued it (its address, web/clients.py): each may have at most
    # stackq.tasks.max_queued_per_client tasks not finished. None: queued by a command, or before
    # this was recorded.
    client: Mapped[str | None] = mapped_column(String(100))


class TaskLine(Base):
    """One line of a task's log (a row each, never one growing text)."""

    __tablename__ = "task_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    line: Mapped[str] = mapped_column(Text)


class Worker(Base):
    """A worker process; a running task whose worker's heartbeat is old is rescued."""

    __tablename__ = "task_workers"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime)

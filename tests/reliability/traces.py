"""What the reliability suite checks after hostile requests: rows stored per table, and a
block that must leave no trace (nothing stored, no error logged, no traceback)."""

import contextlib
import logging
import re

from sqlalchemy import text

COUNTED_TABLES = ("saved_searches", "questions", "search_results", "fetched_pages", "owners",
                  "search_positions", "tasks", "task_lines")


def stored_counts(engine):
    """Rows per table: what a refused request must leave as it was."""
    with engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()
                for table in COUNTED_TABLES}


@contextlib.contextmanager
def leaves_no_trace(engine, caplog):
    """A block that must store nothing and log no error and no traceback."""
    before = stored_counts(engine)
    with caplog.at_level(logging.INFO):
        yield
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text
    assert stored_counts(engine) == before


def csrf_token_of(visitor):
    form = visitor.request("GET", "/queries/new")
    return re.search(r'name="csrf-token" content="([^"]+)"', form.body).group(1)

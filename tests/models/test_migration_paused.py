"""Migration 0009 adds `saved_searches.paused` (every search stored before: not paused), and
takes it away again."""

from datetime import datetime

import alembic.command
from sqlalchemy import inspect, text

from tests.support.database import migrate


def test_upgrade_leaves_every_search_running_and_downgrade_drops_the_column(migration_engine):
    migrate(migration_engine, alembic.command.upgrade, "0006")
    with migration_engine.begin() as db:
        db.execute(text("INSERT INTO sites (id, api_site_parameter, name, site_url) VALUES "
                        "(1, 'stackoverflow', 'Stack Overflow', 'https://stackoverflow.com')"))
        db.execute(text("INSERT INTO saved_searches (id, site_id, q, tagged, created_at) "
                        "VALUES (1, 1, 'asyncio', '', :now)"), {"now": datetime(2026, 12, 1)})
    migrate(migration_engine, alembic.command.upgrade, "0009")
    with migration_engine.connect() as db:
        assert db.execute(text("SELECT id, paused FROM saved_searches")).all() == [(1, False)]

    migrate(migration_engine, alembic.command.downgrade, "0006")
    columns = inspect(migration_engine).get_columns("saved_searches")
    assert "paused" not in {c["name"] for c in columns}
    with migration_engine.connect() as db:
        assert db.execute(text("SELECT id, q FROM saved_searches")).all() == [(1, "asyncio")]

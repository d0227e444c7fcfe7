"""PostgreSQL dropping the app's connections (pg_terminate_backend) or refusing new ones:
requests fail with a clear 503 page, the app recovers by itself, and a serialization conflict
is retried instead of failing the request.

PostgreSQL only (`STACKQ_TEST_DB=postgresql`, the suite's second run): SQLite has no server
whose connections could be killed."""

import os
import re

import pytest
from sqlalchemy import create_engine, text
from zope.sqlalchemy import mark_changed

from stackq import main
from stackq.infra import registry
from tests.reliability.rawwsgi import Visitor
from tests.support.apps import TEST_HOSTS
from tests.support.database import POSTGRES_ADMIN_URL
from tests.support.http import get
from tests.support.stack import running_web

pytestmark = pytest.mark.skipif(os.environ.get("STACKQ_TEST_DB") != "postgresql",
                                reason="PostgreSQL only: SQLite has no connections to kill")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def admin():
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def database_name(stack):
    return stack.db_url.rsplit("/", 1)[1]


def terminate_app_connections(admin, stack):
    with admin.connect() as connection:
        return connection.execute(text(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"),
            {"name": database_name(stack)}).scalar()


def allow_connections(admin, stack, allowed):
    with admin.connect() as connection:
        connection.execute(text(
            f'ALTER DATABASE "{database_name(stack)}" ALLOW_CONNECTIONS {str(allowed).lower()}'))


def test_killed_connections_are_replaced_and_an_outage_is_a_503(stack, admin, upstream):
    stack.clean()
    search_id = stack.save_search("python")
    # No response cache: every page below must come from the database.
    stack.ini.write_text(re.sub(r"\[app:main\]\n", "[app:main]\nstackq.cache.ttl = 0\n",
                                stack.ini.read_text(), count=1))
    with running_web("pserve", stack.ini) as server:
        pages = ["/", f"/queries/{search_id}", f"/queries/{search_id}?sort=title"]
        assert [get(server, path)[0] for path in pages] == [200] * 3
        assert terminate_app_connections(admin, stack) >= 1
        # Each pooled connection is checked before use: the next requests simply work.
        assert [get(server, path)[0] for path in pages * 2] == [200] * 6

        allow_connections(admin, stack, False)
        try:
            terminate_app_connections(admin, stack)
            status, body = get(server, f"/queries/{search_id}")
            assert status == 503 and "Database unavailable" in body
            assert get(server, "/")[0] == 503
        finally:
            allow_connections(admin, stack, True)
        # Back by itself: nobody restarted anything.
        assert [get(server, path)[0] for path in pages] == [200] * 3
        output = server.output()
    assert "Traceback" not in output, output


attempts = {"count": 0}


def conflicting_view(request):
    """Update a row another transaction changes meanwhile, the first time only."""
    attempts["count"] += 1
    session = request.dbsession
    session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    session.execute(text("SELECT n FROM retry_probe WHERE id = 1")).scalar()
    if attempts["count"] == 1:
        with request.registry["test.engine"].begin() as other:
            other.execute(text("UPDATE retry_probe SET n = n + 100 WHERE id = 1"))
    session.execute(text("UPDATE retry_probe SET n = n + 1 WHERE id = 1"))
    mark_changed(session)  # raw SQL: tell the transaction there is something to commit
    return request.response


def probe_views(config):
    config.add_route("conflict", "/_test/conflict")
    config.add_view(conflicting_view, route_name="conflict", request_method="GET")


def test_a_serialization_conflict_is_retried(stack, emulator):
    engine = create_engine(stack.db_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS retry_probe (id int PRIMARY KEY, "
                                "n int)"))
        connection.execute(text("DELETE FROM retry_probe"))
        connection.execute(text("INSERT INTO retry_probe VALUES (1, 0)"))
    app = main({"here": ROOT}, **{"sqlalchemy.url": stack.db_url, "redis.url": stack.redis_url,
                                  "stackq.api.urls": emulator.base_url,
                                  "stackq.cache.ttl": "0", "stackq.allowed_hosts": TEST_HOSTS,
                                  "pyramid.includes": "tests.reliability.test_database_outage."
                                                      "probe_views"})
    app.registry["test.engine"] = engine
    try:
        answer = Visitor(app).request("GET", "/_test/conflict")
        assert answer.status == 200, answer.body
        assert attempts["count"] == 2  # the first attempt hit the conflict, the second passed
        with engine.connect() as connection:
            assert connection.execute(text("SELECT n FROM retry_probe")).scalar() == 101
    finally:
        app.registry[registry.EVENTS].stop(timeout=0)
        engine.dispose()

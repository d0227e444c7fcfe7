"""PostgreSQL stopped and started again under the real web process and refresher: while it is
down every page is a clean 503 (no 500, no traceback), and once it is back the same processes
serve and refresh again by themselves, with every stored row still there.

The server restarted is one of the test's own (tests/support/postgres_cluster.py), never the
machine's shared one. PostgreSQL only (`STACKQ_TEST_DB=postgresql`): on that run a machine
without PostgreSQL's server programs fails this test rather than skipping it."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.reliability.traces import stored_counts
from tests.support.database import database_kind
from tests.support.http import get
from tests.support.postgres_cluster import ClusterUnavailable, postgres_bindir, postgres_cluster
from tests.support.redis import private_redis
from tests.support.stack import Stack, running_web, start_refresher
from tests.support.waiting import wait_until

pytestmark = pytest.mark.skipif(database_kind() != "postgresql",
                                reason="PostgreSQL only: SQLite has no server to restart")
# No response cache: every page must come from the database. A key, so that the quota plan
# refreshes the search in every cycle; a cycle due every second.
STACK_SETTINGS = {"stackq.cache.ttl": "0", "stackq.api.key": "restart-tests",
                  "stackq.refresh.interval": "1"}


@pytest.fixture(scope="module")
def cluster():
    try:
        postgres_bindir()
    except ClusterUnavailable as error:
        pytest.fail(f"a PostgreSQL run needs a server of the test's own to restart: {error}")
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def counter(cluster):
    """The test's own reader: a new connection each time, whatever the app's pool does."""
    engine = create_engine(cluster.url, poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, emulator, cluster):
    tmp = tmp_path_factory.mktemp("database-restart")
    with private_redis(tmp) as redis_url:
        stack = Stack(tmp, cluster.url, redis_url, emulator.base_url, **STACK_SETTINGS)
        yield stack
        stack.close()


def finished_cycles(engine):
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT COUNT(*) FROM refresh_runs WHERE finished_at IS NOT NULL")).scalar()


def test_postgresql_restarted_mid_run(stack, cluster, counter, upstream, tmp_path):
    stack.clean()
    search_id = stack.save_search("python")
    pages = ["/", f"/queries/{search_id}", f"/queries/{search_id}?sort=title"]
    log_path = tmp_path / "refresher.log"
    with running_web("pserve", stack.ini) as server:
        refresher = start_refresher(stack.ini, log_path=log_path)
        try:
            wait_until(lambda: finished_cycles(counter), 20, "a first refresh cycle", 0.2)
            assert [get(server, path)[0] for path in pages] == [200] * 3
            before = stored_counts(counter)
            cycles = finished_cycles(counter)

            cluster.stop()
            for path in pages:
                status, body = get(server, path)
                assert (status, "Database unavailable" in body) == (503, True), (path, body)
            wait_until(lambda: "refresh cycle failed" in log_path.read_text(), 15,
                       "the refresher to find the database gone", 0.2)

            cluster.start()
            # Back by itself: nobody restarts the web process or the refresher.
            assert [get(server, path)[0] for path in pages] == [200] * 3
            assert stored_counts(counter) == before
            # Restarted between two requests: the pooled connections are dead, but each is
            # checked before use (pool_pre_ping), so no visitor meets one.
            cluster.stop()
            cluster.start()
            assert [get(server, path)[0] for path in pages] == [200] * 3
            wait_until(lambda: finished_cycles(counter) > cycles, 30,
                       "the refresher to run a cycle again", 0.2)
            assert stored_counts(counter) == before
        finally:
            refresher.terminate()
            assert refresher.wait(20) == 0
        output = server.output()
    assert "Traceback" not in output, output
    assert "database unavailable on GET" in output
    refresher_log = log_path.read_text()
    assert "Traceback" not in refresher_log, refresher_log

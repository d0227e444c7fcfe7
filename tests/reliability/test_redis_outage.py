"""Redis unreachable at start, killed mid-run and restarted, under the real web process and
refresher: pages keep coming from the database, notices and the refresher resume by
themselves, and nothing stored is lost."""

import urllib.request

import pytest
import websocket
from sqlalchemy import text

from stackq.infra.clock import utcnow
from stackq.infra.pubsub import channel_of, publish
from stackq.notify import query_updated
from tests.support.redis import RedisServer
from tests.support.stack import (
    Stack,
    receive_notice,
    running_web,
    separate_database,
    start_refresher,
    ws_url,
)
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def redis_server():
    """A redis-server on a port of its own, not started yet: each test starts and kills it."""
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def redis_down_after(redis_server):
    yield
    redis_server.stop()  # each test starts it as it needs: never two on one port


@pytest.fixture(scope="module")
def stack(tmp_path_factory, emulator, redis_server):
    tmp = tmp_path_factory.mktemp("redis-outage")
    with separate_database(tmp) as db_url:
        stack = Stack(tmp, db_url, redis_server.url, emulator.base_url,
                      **{"stackq.ws.ping_interval": "0.5", "stackq.refresh.interval": "1"})
        yield stack
        stack.close()


def get(server, path):
    with urllib.request.urlopen(server.url + path, timeout=20) as answer:
        return answer.status, answer.headers.get("X-Cache"), answer.read().decode()


def stored_rows(stack):
    with stack.engine.connect() as connection:
        return connection.execute(text(
            "SELECT search_id, question_id FROM search_results ORDER BY 1, 2")).all()


def subscribed(stack):
    try:
        return stack.redis.pubsub_numsub(channel_of(stack.redis))[0][1] >= 1
    except OSError:
        return False


def notice_reaches(stack, ws, search_id, new=0, changed=0):
    """Once the web process listens, a `query_updated` published reaches the socket `ws`."""
    wait_until(lambda: subscribed(stack), 15, "the web process to subscribe")
    publish(stack.redis, query_updated(search_id, "python", "stackoverflow", new, changed, 0,
                                       utcnow()))
    notice = receive_notice(ws, search_id)
    assert (notice["new"], notice["changed"]) == (new, changed)


@pytest.fixture
def saved_search(stack, redis_server, upstream):
    """Redis up, the stack emptied, one search saved: its id and its stored rows."""
    redis_server.start()
    stack.clean()
    search_id = stack.save_search("python")
    return search_id, stored_rows(stack)


def test_the_web_process_starts_without_redis_and_takes_it_when_it_comes(
        stack, redis_server, saved_search):
    search_id, rows = saved_search
    redis_server.stop()
    with running_web("pserve", stack.ini) as server:
        for path in ("/", f"/queries/{search_id}", f"/queries/{search_id}?sort=title"):
            status, cache, _ = get(server, path)
            assert (status, cache) == (200, "BYPASS"), path
        redis_server.start()
        # The cache and the notices come back by themselves.
        wait_until(lambda: get(server, "/")[1] in ("MISS", "HIT"), 15, "the cache to return")
        ws = websocket.create_connection(ws_url(server), timeout=10, origin=server.url)
        notice_reaches(stack, ws, search_id, new=1)
        ws.close()
        assert "Traceback" not in server.output()
    assert stored_rows(stack) == rows


def test_redis_killed_mid_run_then_restarted(stack, redis_server, saved_search):
    search_id, rows = saved_search
    with running_web("pserve", stack.ini) as server:
        ws = websocket.create_connection(ws_url(server), timeout=10, origin=server.url)
        wait_until(lambda: subscribed(stack), 15, "the web process to subscribe")
        redis_server.stop()
        for path in ("/", f"/queries/{search_id}", f"/queries/{search_id}?page=2", "/status"):
            assert get(server, path)[0] == 200, path
        redis_server.start()
        # The socket opened before the outage hears the notices after it.
        notice_reaches(stack, ws, search_id, changed=2)
        ws.close()
        assert "Traceback" not in server.output()
    assert set(rows) <= set(stored_rows(stack))


def test_the_refresher_waits_out_redis_and_resumes(stack, redis_server, saved_search, tmp_path):
    _, rows = saved_search
    redis_server.stop()
    log_path = tmp_path / "refresher.log"
    refresher = start_refresher(stack.ini, log_path=log_path)
    try:
        # A process starting on a loaded machine: its imports alone may take seconds.
        wait_until(lambda: "Redis does not answer" in log_path.read_text(), 30,
                   "the refresher to say Redis is gone")
        redis_server.start()
        with stack.engine.connect() as connection:
            wait_until(lambda: connection.execute(text(
                "SELECT COUNT(*) FROM refresh_runs WHERE finished_at IS NOT NULL")).scalar(),
                30, "a refresh cycle once Redis is back", interval=0.5)
    finally:
        refresher.terminate()
        assert refresher.wait(20) == 0
    assert set(rows) <= set(stored_rows(stack))
    assert "Traceback" not in log_path.read_text()

"""Stampedes through the real pserve (gevent): many requests for one uncached page, one
rendering — within one server process, and between two sharing Redis."""

import configparser
import contextlib
import os
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.cache_probe import peak_in_flight, renders_key
from tests.support.redis import RedisServer
from tests.support.searches import save_search_through
from tests.support.serverproc import running_server

REPO = Path(__file__).resolve().parents[2]
CONCURRENCY = 50
SEARCH = "search/advanced"


def write_ini(directory):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(REPO / "development.ini", encoding="utf-8")
    parser["app:main"]["pyramid.includes"] = "tests.support.cache_probe"
    parser["logger_root"]["level"] = "WARN"
    parser["logger_stackq"]["level"] = "WARN"
    ini = Path(directory) / "cache.ini"
    with open(ini, "w", encoding="utf-8") as f:
        parser.write(f)
    return ini


@pytest.fixture(scope="module")
def stack(tmp_path_factory, emulator):
    """ini, env and Redis for pserve processes sharing one SQLite database and one Redis."""
    directory = tmp_path_factory.mktemp("cache-stampede")
    redis_server = RedisServer().start()
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "STACKQ_SQLALCHEMY_URL": f"sqlite:///{directory}/stackq.sqlite",
        "STACKQ_REDIS_URL": redis_server.url,
        "STACKQ_API_URLS": emulator.base_url,
        "STACKQ_API_MAX_RATE": "1000",
        # The site's one name behind a load balancer (test_two_servers_…), and the servers'.
        "STACKQ_ALLOWED_HOSTS": "127.0.0.1 stackq.example",
    }
    ini = write_ini(directory)
    initialize_db = str(Path(sys.executable).parent / "initialize_db")
    subprocess.run([initialize_db, str(ini)], check=True, capture_output=True,
                   env={**os.environ, **env})
    yield ini, env, redis_server
    redis_server.stop()


@pytest.fixture
def servers(request, stack, upstream):
    """`request.param` pserve processes on the stack, Redis emptied first."""
    ini, env, redis_server = stack
    redis_server.client().flushall()
    upstream.configure(max_rate=10_000, quota=1_000_000)
    with contextlib.ExitStack() as started:
        yield [started.enter_context(running_server(ini, env=env))
               for _ in range(request.param)], redis_server.client()


def create_search(base_url, q):
    """The results URL a browser lands on after saving the search."""
    return save_search_through(base_url, q)[0]


def stampede(urls, host=None):
    """GET every url at once (threads released together); [(status, X-Cache)]."""
    barrier = threading.Barrier(len(urls))

    def get(url):
        barrier.wait(timeout=20)
        # Behind a load balancer every process sees the site's one Host.
        headers = {"Host": host} if host else {}
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=30) as answer:
            answer.read()
            return answer.status, answer.headers.get("X-Cache")

    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(get, urls))


def count(client, key):
    return int(client.get(key) or 0)


@pytest.mark.parametrize("servers", [1], indirect=True)
def test_fifty_concurrent_requests_render_the_page_once(servers):
    (server,), client = servers
    answers = stampede([server.url + "/_probe/slow?x=1"] * CONCURRENCY)
    assert [status for status, _ in answers] == [200] * CONCURRENCY
    assert count(client, renders_key("/_probe/slow")) == 1
    assert sorted(state for _, state in answers).count("MISS") == 1
    # They were in flight together: without the single flight, all would render.
    assert peak_in_flight(client, "/_probe/slow") >= CONCURRENCY // 2


@pytest.mark.parametrize("servers", [2], indirect=True)
def test_two_servers_render_the_page_once_between_them(servers):
    (one, two), client = servers
    urls = [one.url + "/_probe/slow", two.url + "/_probe/slow"] * (CONCURRENCY // 2)
    answers = stampede(urls, host="stackq.example")
    assert [status for status, _ in answers] == [200] * CONCURRENCY
    assert count(client, renders_key("/_probe/slow")) == 1
    assert peak_in_flight(client, "/_probe/slow") >= CONCURRENCY // 2


@pytest.mark.parametrize("servers", [1], indirect=True)
def test_results_page_stampede_fetches_upstream_once(servers, upstream):
    (server,), client = servers
    results = create_search(server.url, "python")
    path = urllib.parse.urlsplit(results).path
    calls = upstream.stats()["by_method"].get(SEARCH, 0)
    rendered = count(client, renders_key(path))  # the landing page after the POST
    # Rows 101-125: upstream page 2, not fetched yet.
    answers = stampede([results + "?page=5"] * CONCURRENCY)
    assert [status for status, _ in answers] == [200] * CONCURRENCY
    assert count(client, renders_key(path)) - rendered == 1
    assert upstream.stats()["by_method"][SEARCH] - calls == 1

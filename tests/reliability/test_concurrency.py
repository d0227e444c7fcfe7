"""Many visitors at once on two real server processes sharing one database and Redis:
one upstream fetch for one page, one saved search for one search."""

import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from tests.support.searches import save_search_through
from tests.support.stack import running_web

VISITORS = 50


@pytest.fixture(scope="module")
def servers(stack):
    with running_web("pserve", stack.ini) as one, running_web("gunicorn", stack.ini) as two:
        yield one, two


def all_at_once(count, call):
    barrier = threading.Barrier(count)

    def one(i):
        barrier.wait(timeout=30)
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def fetches(emulator):
    return emulator.stats()["by_method"].get("search/advanced", 0)


def test_fifty_visitors_of_one_unstored_page_make_one_upstream_fetch(stack, servers, upstream):
    stack.clean()
    search_id = stack.save_search("python")
    before = fetches(upstream)

    def visit(i):
        url = f"{servers[i % 2].url}/queries/{search_id}?page=4&sort=votes"
        with urllib.request.urlopen(url, timeout=30) as answer:
            # Links name the server they were asked of: the rest is one rendering.
            return answer.status, answer.read().replace(servers[i % 2].url.encode(), b"")

    answers = all_at_once(VISITORS, visit)
    assert [status for status, _ in answers] == [200] * VISITORS
    assert fetches(upstream) - before == 1
    assert len({body.split(b"<main", 1)[1] for _, body in answers}) == 1  # one rendering


def test_two_saves_of_the_same_search_at_once_make_one_saved_search(stack, servers, upstream):
    stack.clean()
    urls = all_at_once(2, lambda i: save_search_through(servers[i].url, "asyncio")[0])
    with stack.engine.connect() as connection:
        count = connection.execute(text(
            "SELECT COUNT(*) FROM saved_searches WHERE q = 'asyncio'")).scalar()
    assert count == 1
    assert urls[0].rsplit("/", 1)[1] == urls[1].rsplit("/", 1)[1]

"""A slow API holds no database connection: with the pool at 2 and every API call taking
2 s, 10 visitors opening pages not stored yet all get them, and `/` answers meanwhile.

Through the real server (pserve, gevent) on a database of its own (PostgreSQL under
STACKQ_TEST_DB=postgresql). The pool waits at most 5 s for a connection: requests that
held one across their 2 s API calls would keep the last visitors waiting 8 s, and `/` until
an API call is answered."""

import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from tests.support import serverproc
from tests.support.slow_upstream import slow_upstream
from tests.support.stack import open_stack
from tests.support.waiting import wait_until

VISITORS = 10
POOL = {"sqlalchemy.pool_size": "2", "sqlalchemy.max_overflow": "0",
        "sqlalchemy.pool_timeout": "5", "stackq.api.max_rate": "1000",
        "stackq.api.max_wait": "60", "stackq.api.timeout": "20", "stackq.cache.ttl": "0"}


def get(url):
    with urllib.request.urlopen(url, timeout=60) as answer:
        return answer.status, answer.read().decode()


def test_ten_first_visits_on_a_slow_api_and_a_pool_of_two(tmp_path, upstream):
    upstream.configure(max_rate=10_000, quota=1_000_000)
    with slow_upstream(upstream.base_url) as proxy, \
            open_stack(tmp_path, proxy.base_url, **POOL) as stack:
        search_id = stack.save_search("python", orders=())
        proxy.delay = 2.0
        served_before = proxy.served
        with serverproc.running_server(stack.ini, env={"STACKQ_API_MAX_IN_FLIGHT": "10"}) as web:
            # Ten pages of 100 rows: ten upstream pages, none stored yet.
            urls = [f"{web.url}/queries/{search_id}?per_page=100&sort=votes&page={n}"
                    for n in range(1, VISITORS + 1)]
            start = threading.Barrier(VISITORS + 1)

            def visit(url):
                start.wait(timeout=10)
                return get(url)

            with ThreadPoolExecutor(VISITORS) as pool:
                pages = [pool.submit(visit, url) for url in urls]
                start.wait(timeout=10)
                assert wait_until(lambda: proxy.in_flight >= 2, 10, "API calls under way")
                home_status, home = get(web.url + "/")
                answered_before_home = proxy.served - served_before
                answers = [page.result(timeout=120) for page in pages]
        assert home_status == 200 and "python" in home
        assert answered_before_home == 0  # `/` did not wait for any API call
        assert [status for status, _ in answers] == [200] * VISITORS, web.output()[-3000:]
        assert all("data-question-id" in body for _, body in answers)

"""Never banned: every answer of both mirrors carries `backoff: 2`, the counts' answers too,
and a new user's run (3 searches saved, page 1 and page 5 of each opened, a 2-page harvest)
breaks not one back-off. Real processes (the web server and `stackq_harvest`) on a database
and a Redis of their own.

Before filters kept `.backoff` in sight a count's answer was `{"total": N}`: its back-off
hidden, yet enforced, the page 1 call right after it landed inside it.
"""

import urllib.request

from tests.support import serverproc
from tests.support.harvest import run_harvester
from tests.support.searches import save_search_through
from tests.support.stack import open_stack

BACKOFF = 2
SEARCHES = ("python", "java", "asyncio")


def test_every_answer_backed_off_and_not_one_violation(tmp_path, mirrors):
    first, second = mirrors
    urls = f"{first.base_url} {second.base_url}"
    with open_stack(tmp_path, first.base_url, **{"stackq.api.urls": urls,
                                                 "stackq.cache.ttl": "0"}) as stack:
        for emu in mirrors:  # every answer of every method, from now on
            emu.configure(backoff_every=1, backoff_seconds=BACKOFF)
        with serverproc.running_server(stack.ini) as web:
            for q in SEARCHES:
                results_url, _ = save_search_through(web.url, q)
                for page in (1, 5):
                    with urllib.request.urlopen(f"{results_url}?page={page}", timeout=60) as got:
                        assert got.status == 200
        harvest = run_harvester(stack.ini, "-s", "rust", "-m", 2)
        assert harvest.returncode == 0, harvest.stdout + harvest.stderr
    stats = [emu.stats() for emu in mirrors]
    assert [s["violations"] for s in stats] == [0, 0], stats
    # The counts' answers carried back-offs their filter kept; none was hidden.
    assert sum(s["backoffs"].get("search/advanced", 0) for s in stats) >= 3 * 3 + 2
    assert [s["hidden_backoffs"] for s in stats] == [{}, {}]
    assert sum(s["by_method"].get("filters/create", 0) for s in stats) == 1  # made once, shared

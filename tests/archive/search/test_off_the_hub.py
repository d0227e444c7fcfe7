"""Under gevent, as the web server runs, a slow search leaves the hub free: a SQLite search
runs in the hub's thread pool (archive/search/limit.py), a PostgreSQL one waits through the
hub (psycogreen). Run in a process of its own, patched as the server's is
(tests/support/hub_probe.py)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def test_other_greenlets_go_on_while_searches_are_slow(dbengine):
    url = dbengine.url.render_as_string(hide_password=False)
    done = subprocess.run([sys.executable, "-m", "tests.support.hub_probe", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    # Each search took half a second or more: 50 ticks of 10 ms if the hub was free, none if
    # a search held it.
    assert all(run["ticks"] >= 10 for run in runs), runs
    if dbengine.dialect.name == "sqlite":
        # The session that stored the archive finds it; the others see nothing uncommitted.
        assert sorted(run["total"] for run in runs) == [0, 0, 5]

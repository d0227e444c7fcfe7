"""The refresher's commands: `run` starts the web app with it; `--once` says what is missing."""

import signal
import subprocess
import sys
import urllib.request

from sqlalchemy import func, select

from stackq.models import RefreshRun
from tests.support.serverproc import free_port
from tests.support.stack import run_refresher, write_ini
from tests.support.waiting import wait_until

STACK_SETTINGS = {"stackq.api.key": "refresh-tests"}


def test_run_starts_the_web_app_and_the_refresher_together(clean, tmp_path):
    """What `make run` runs: one command, both processes, one Ctrl-C for both."""
    clean.save_search("asyncio")
    port = free_port()
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "stackq.server.run", str(clean.ini),
                                 f"http_port={port}"], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        with clean.session() as dbsession:
            wait_until(lambda: dbsession.scalar(select(func.count()).select_from(RefreshRun)),
                       30, "the refresher's first cycle")
        page = wait_until(lambda: fetch_page(f"http://127.0.0.1:{port}/"), 30, "the web app")
        assert "Last refresh cycle" in page
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(20)
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()


def fetch_page(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.read().decode()
    except OSError:
        return None


def test_refresh_once_without_redis_says_so(clean, tmp_path):
    ini = write_ini(tmp_path / "no-redis.ini", clean.db_url, f"unix://{tmp_path}/none.sock",
                    clean.api_url)
    done = run_refresher(ini, "--once")
    assert done.returncode == 2
    assert "Redis does not answer" in done.stderr and "Traceback" not in done.stderr


def test_refresh_once_without_a_schema_says_what_to_run(clean, tmp_path):
    ini = write_ini(tmp_path / "empty.ini", f"sqlite:///{tmp_path}/empty.sqlite",
                    clean.redis_url, clean.api_url)
    done = run_refresher(ini, "--once")
    assert done.returncode == 2
    assert "initialize_db" in done.stderr and "Traceback" not in done.stderr

"""The refresher under back-off: many workers, two mirrors, an emulator that sends
`backoff` on every 5th answer, and visitors opening pages meanwhile."""

import urllib.request

import pytest
from sqlalchemy import select

from stackq.models import RefreshRun
from tests.support.stack import (
    run_refresher,
    running_web,
    start_refresher,
    write_ini,
)
from tests.support.waiting import wait_until

# Twenty saved searches; "python" has more than one upstream page of results.
TOPICS = ("python", "asyncio", "django", "pyramid", "sqlalchemy", "sql", "postgresql", "mysql",
          "javascript", "typescript", "react", "node", "linux", "bash", "docker", "java",
          "csharp", "cpp", "go", "rust")


@pytest.fixture
def saved(stack, mirrors, tmp_path):
    """Twenty saved searches, then both mirrors sending back-off on every 5th answer, and
    the ini of a refresher (and web app) on both; (search ids, ini)."""
    stack.clean()
    ids = [stack.save_search(q) for q in TOPICS]
    for emu in mirrors:
        emu.reset()  # counts from here (the data is as it was when the searches were saved)
        emu.configure(backoff_every=5, backoff_seconds=1, latency=0.02)
    urls = " ".join(emu.base_url for emu in mirrors)
    # With a key (10,000 calls a day) the plan refreshes every search in every cycle: this
    # is about back-off under load, not about the quota (tests/refresh/test_refresh_quota.py).
    return ids, write_ini(tmp_path / "two-mirrors.ini", stack.db_url, stack.redis_url, urls,
                          **{"stackq.api.key": "refresh-backoff-tests"})


def assert_no_violations(mirrors):
    stats = [emu.stats() for emu in mirrors]
    assert all(s["backoffs"].get("search/advanced", 0) >= 1 for s in stats)  # it was tested
    assert [(s["violations"], s["bans"]) for s in stats] == [(0, 0), (0, 0)]


def last_run(stack):
    with stack.session() as dbsession:
        run = dbsession.scalars(select(RefreshRun).order_by(RefreshRun.id.desc())).first()
        return run.state, run.searches, run.errors, run.calls, run.finished_at


def test_a_cycle_of_twenty_searches_with_eight_workers_keeps_every_backoff(
        stack, saved, mirrors):
    done = run_refresher(saved[1], "--once", "--force", "--workers", "8", timeout=120)
    assert done.returncode == 0, done.stderr
    state, searches, errors, calls, _ = last_run(stack)
    # What changed in each search (one call each, at least), every call counted upstream.
    assert (state, searches, errors) == ("finished", 20, 0)
    assert calls >= 20
    assert calls == sum(emu.stats()["requests"] for emu in mirrors)
    assert_no_violations(mirrors)
    assert "Violation" not in done.stdout + done.stderr


def test_a_page_opened_while_the_refresher_saturates_both_mirrors_is_answered(
        stack, saved, mirrors, tmp_path):
    ids, ini = saved
    for emu in mirrors:
        emu.configure(latency=0.1)  # a cycle of several seconds
    with running_web("pserve", ini) as server:
        refresher = start_refresher(ini, "--once", "--force", "--workers", "8",
                                    log_path=tmp_path / "refresher.log")
        try:
            wait_until(lambda: sum(emu.stats()["requests"] for emu in mirrors) >= 6, 30,
                       "the refresher to keep both mirrors busy")
            # Rows 101-125 of "python": upstream page 2, never fetched yet.
            url = f"{server.url}/queries/{ids[0]}?page=5"
            with urllib.request.urlopen(url, timeout=30) as page:
                status = page.status
            during = last_run(stack)
        finally:
            code = refresher.wait(60)
    # Answered (not "API busy") while the cycle was still under way.
    assert status == 200
    assert during[0] == "running" and during[4] is None
    assert code == 0, (tmp_path / "refresher.log").read_text()
    assert last_run(stack)[:3] == ("finished", 20, 0)
    assert_no_violations(mirrors)

"""`refresh_queries` stopped or killed mid-cycle, as a real process against the emulator over
HTTP: a stop is prompt whatever its calls wait for, and a killed one holds nothing for long."""

import signal
import subprocess
import time

import pytest
from sqlalchemy import select

from stackq.models import RefreshRun
from stackq.refresh.cycle import LOCK_KEY, RefreshLock
from tests.support.refresh_cycles import TOPICS, slow_cycle_started
from tests.support.stack import run_refresher
from tests.support.waiting import wait_until

STACK_SETTINGS = {"stackq.api.key": "stop-tests"}
# Each search call is answered after half a second, and tells the next to wait this long:
# longer than a stop may take, so a stop that waited for the next slot could not pass.
BACKOFF = 12
# A refresher killed with -9: the next `--once` runs a cycle within this (issue 23).
KILLED_FREES_WITHIN = 20.0


def runs(stack):
    with stack.session() as dbsession:
        return list(dbsession.scalars(select(RefreshRun).order_by(RefreshRun.id)))


def once_runs_a_cycle(stack):
    """`--once` (as cron runs it) run to the end: its stdout says it ran a cycle, or why not.

    A stopped or killed cycle did not finish, so it does not make the next one wait.
    """
    done = run_refresher(stack.ini, "--once", timeout=90)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("loop", [["--interval", "600"], ["--once", "--force"]],
                         ids=["continuous", "once"])
def test_sigterm_while_calls_wait_for_a_backed_off_slot_exits_0_at_once(clean, upstream,
                                                                       tmp_path, loop):
    log = tmp_path / "stopped.log"
    proc, _ = slow_cycle_started(clean, upstream, log, *loop, backoff=BACKOFF, latency=0.5,
                                 lock_ttl=None)
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(10)  # the next search's slot is BACKOFF s away
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"still running 10 s after SIGTERM:\n{log.read_text()}") from None
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    assert not clean.redis.exists(LOCK_KEY)  # released, not left to expire
    stopped = runs(clean)[-1]
    assert stopped.state == "stopped" and 1 <= stopped.searches < len(TOPICS)
    upstream.configure(backoff=None, latency=0)

    out = once_runs_a_cycle(clean)  # waits out the last back-off the stopped one was told

    assert "refresh cycle" in out and "finished" in out, out
    assert runs(clean)[-1].searches == len(TOPICS)
    assert upstream.stats()["violations"] == 0


def test_kill_9_mid_cycle_then_a_once_runs_a_cycle_within_20_s(clean, upstream, tmp_path):
    log = tmp_path / "killed.log"
    proc, _ = slow_cycle_started(clean, upstream, log, "--once", "--force", backoff=2,
                                 latency=0.5, lock_ttl=None)
    proc.kill()
    proc.wait(10)
    killed_at = time.monotonic()
    upstream.configure(backoff=None, latency=0)
    tries = []
    while True:
        started = time.monotonic() - killed_at
        out = once_runs_a_cycle(clean)
        tries.append((round(started, 1), out.strip()))
        if "another refresher" not in out:
            break
        assert started < KILLED_FREES_WITHIN, tries
        time.sleep(1.0)
    assert started < KILLED_FREES_WITHIN and "finished" in out, tries
    killed, last = runs(clean)
    assert killed.state == "interrupted" and last.searches == len(TOPICS)
    # The dead process's slot stayed held until its call could no longer be answered.
    assert upstream.stats()["violations"] == 0


def test_the_lock_heartbeat_renews_only_a_lock_it_still_holds(clean):
    lock = RefreshLock(clean.redis, ttl=0.6)  # renewed every 0.2 s
    assert lock.acquire()
    try:
        time.sleep(1.0)  # past its TTL: alive only because it was renewed
        assert clean.redis.exists(LOCK_KEY) and not lock.lost.is_set()
        # Another refresher took it (as after a pause longer than the TTL): never ours again.
        clean.redis.set(LOCK_KEY, "another refresher's token", px=5000)
        wait_until(lock.lost.is_set, 5, "the lock to be seen lost")
        assert clean.redis.get(LOCK_KEY) == b"another refresher's token"
        assert 4.0 < clean.redis.pttl(LOCK_KEY) / 1000 <= 5.0  # not extended by us
    finally:
        lock.release()
    assert clean.redis.get(LOCK_KEY) == b"another refresher's token"  # not released by us

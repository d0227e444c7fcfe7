"""`stackq_harvest` stopped as a real process: SIGTERM and Ctrl-C end it at once whatever its
calls wait for, store what was fetched, and `-r` goes on where it stopped."""

import signal
import subprocess
import time

import pytest

from stackq.harvest.command import STOP_GRACE
from tests.support.harvest import (
    ini_with,
    read_until,
    run_harvester,
    search_id,
    start_harvester,
    stored_pages,
)
from tests.support.waiting import wait_until

# The back-off every search call is told once the harvest runs: longer than a stop may take.
BACKOFF = 12


def stopped(proc, signum, timeout=10):
    """Send `signum`; (stdout, stderr) once the process ended, within `timeout` s."""
    proc.send_signal(signum)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running {timeout} s after {signum!r}:\n{out}{err}") from None


def backed_off_harvest(clean, upstream, *args):
    """A harvest whose next page waits BACKOFF s for its slot (calls take half a second)."""
    upstream.configure(latency=0.5)
    proc = start_harvester(clean.ini, "-s", "python", "-m", 5, *args)
    read_until(proc, "page 1 stored")
    upstream.configure(backoff={"search/advanced": BACKOFF})
    wait_until(lambda: upstream.stats()["backoffs"], 10, "a back-off to be sent")
    time.sleep(0.3)
    return proc


def test_sigterm_while_a_page_waits_for_a_backed_off_slot_exits_0_and_r_resumes(clean,
                                                                               upstream):
    proc = backed_off_harvest(clean, upstream)
    out, err = stopped(proc, signal.SIGTERM)
    assert proc.returncode == 0, err
    assert "SIGTERM: stopping" in err and "Traceback" not in err
    assert "interrupted: rerun with -r to continue" in out
    query_id = search_id(clean, q="python")
    done = stored_pages(clean, query_id)
    assert done == list(range(1, len(done) + 1)) and 1 <= len(done) < 5  # what was fetched
    upstream.configure(backoff=None, latency=0)

    resumed = run_harvester(clean.ini, "-s", "python", "-m", 5 - len(done), "-r")

    assert resumed.returncode == 0, resumed.stderr
    assert f"({len(done) + 1}-5)" in resumed.stdout
    assert stored_pages(clean, query_id) == [1, 2, 3, 4, 5]
    assert upstream.stats()["violations"] == 0


def test_ctrl_c_once_gives_up_the_wait_stores_what_was_fetched_and_exits_130(clean, tmp_path):
    # 3 a minute: the count's filter, the count and page 1; page 2 then waits
    ini = ini_with(clean, tmp_path, **{"stackq.api.max_rate": "3/minute"})
    proc = start_harvester(ini, "-s", "python", "-m", 5)
    read_until(proc, "page 1 stored")
    time.sleep(0.3)  # page 2 waits about a minute for its slot
    out, err = stopped(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    assert "SIGINT: stopping" in err
    assert "page 2 stored" not in out and "interrupted: rerun with -r to continue" in out
    assert stored_pages(clean, search_id(clean, q="python")) == [1]


def test_a_second_signal_stops_at_once_storing_nothing_half(clean, upstream, tmp_path):
    # Calls take 4 s (answered within the 10 s timeout): the first signal waits for one.
    ini = ini_with(clean, tmp_path, **{"stackq.api.timeout": "10"})
    upstream.configure(latency=4)
    proc = start_harvester(ini, "-s", "python", "-m", 5)
    read_until(proc, "page 1 stored")
    time.sleep(0.3)  # page 2's call is under way
    proc.send_signal(signal.SIGINT)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(1.0)  # the first Ctrl-C lets page 2's call be answered
    out, err = stopped(proc, signal.SIGINT, timeout=2)
    assert proc.returncode == 130, err
    assert "stopped at once; this run stored page 1" in err
    assert stored_pages(clean, search_id(clean, q="python")) == [1]


def test_a_call_unanswered_after_the_grace_is_abandoned(clean, upstream, tmp_path):
    ini = ini_with(clean, tmp_path, **{"stackq.api.timeout": "30"})
    upstream.configure(latency=STOP_GRACE + 10)
    proc = start_harvester(ini, "-s", "python", "-m", 5)
    wait_until(lambda: upstream.stats()["requests"], 30, "the first call")
    out, err = stopped(proc, signal.SIGTERM, timeout=STOP_GRACE + 5)
    assert proc.returncode == 0, err
    assert "stopped at once" in err and "Traceback" not in err

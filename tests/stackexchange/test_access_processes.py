"""The API access layer across real processes: each worker is
`python -m tests.support.access_worker`,
calling `stackq.stackexchange.fetch` with its settings from STACKQ_* variables."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from stackq.infra.settings import Rate
from stackq.stackexchange import ApiAccess
from tests.support.access_worker import results, start_workers
from tests.support.redis import own_redis
from tests.support.serverproc import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def worker_env(mirrors, redis_url, **settings):
    env = {
        "STACKQ_API_URLS": " ".join(m.base_url for m in mirrors),
        "STACKQ_REDIS_URL": redis_url,
        "STACKQ_API_TIMEOUT": "2",
        "STACKQ_API_CACHE_TTL": "0",
        "STACKQ_API_MAX_WAIT": "30",
    }
    env.update({f"STACKQ_API_{k.upper()}": str(v) for k, v in settings.items()})
    return env


@pytest.fixture
def forget(redis_url):
    """Clears what Redis holds for these mirrors (the workers use the default namespace)."""
    made = []

    def forget(mirrors, **options):
        access = ApiAccess([m.base_url for m in mirrors], redis=redis.Redis.from_url(redis_url),
                           **options)
        access.reset()
        made.append(access)
        return access

    yield forget
    for access in made:
        access.reset()


def test_four_processes_of_eight_threads_never_exceed_either_mirrors_rate(
        mirrors, redis_url, forget):
    for emu in mirrors:
        emu.configure(max_rate=8)
    forget(mirrors)
    procs = start_workers(4, worker_env(mirrors, redis_url, max_rate=8),
                          "--threads", 8, "--seconds", 3)
    out = results(procs)
    assert [r["errors"] for r in out] == [{}] * 4
    assert [emu.stats()["violations"] for emu in mirrors] == [0, 0]
    requests = [emu.stats()["requests"] for emu in mirrors]
    assert sum(r["ok"] for r in out) == sum(requests)
    # Both mirrors carried about half: each call went where it could go soonest.
    assert min(requests) >= 0.4 * sum(requests)


def test_four_processes_of_eight_threads_never_break_a_backoff_sent_every_fifth_answer(
        mirrors, redis_url, forget):
    """The server starts a back-off when it produces the answer: only a call that leaves
    after the answer before it was read can never land inside one."""
    for emu in mirrors:
        emu.configure(backoff_every=5, backoff_seconds=1, latency=0.02)
    forget(mirrors)
    procs = start_workers(4, worker_env(mirrors, redis_url),
                          "--threads", 8, "--seconds", 3)
    out = results(procs)
    stats = [emu.stats() for emu in mirrors]
    assert [s["backoffs"].get("info", 0) >= 1 for s in stats] == [True, True]  # it was tested
    assert [(s["backoff_violations"], s["rate_violations"], s["bans"]) for s in stats] == [
        ({}, {}, 0)] * 2
    assert [s["peak_in_flight"] for s in stats] == [{"info": 1}] * 2
    # Every call was answered or failed with one of stackq's typed errors; with a 30 s
    # max_wait none had to fail.
    assert [r["errors"] for r in out] == [{}] * 4
    assert sum(r["ok"] for r in out) == sum(s["requests"] for s in stats)


def test_backoff_is_honoured_by_another_process(mirrors, redis_url, forget):
    emu = mirrors[0]
    emu.configure(backoff={"info": 2})
    forget([emu]).fetch("info", site="stackoverflow")  # this process gets the back-off
    # The worker starts calling well within those 2 seconds.
    procs = start_workers(1, worker_env([emu], redis_url), "--threads", 2, "--calls", 1,
                          start_in=0.8)
    (out,) = results(procs)
    assert out["ok"] == 2 and out["errors"] == {}
    assert emu.stats()["by_method"]["info"] == 3
    assert emu.stats()["violations"] == 0


def test_fifty_identical_calls_from_five_processes_make_one_request(mirrors, redis_url, forget):
    emu = mirrors[0]
    # One call per ~3 seconds: the first caller waits for its slot while the others join.
    access = forget([emu], max_rate=Rate(0.34, 1))
    start_in = 1.5
    procs = start_workers(5, worker_env([emu], redis_url, max_rate=0.34),
                          "--threads", 10, "--calls", 1, "--same", start_in=start_in)
    time.sleep(start_in - 0.3)
    access.fetch("info", site="stackoverflow", n="fill")
    out = results(procs)
    assert sum(r["ok"] for r in out) == 50
    assert emu.stats()["by_method"]["info"] == 2  # the fill call, and one for all fifty


def test_redis_stopped_mid_run_never_lets_the_rate_through(mirrors, forget):
    for emu in mirrors:
        emu.configure(max_rate=6)
    port = free_port()
    env = worker_env(mirrors, f"redis://127.0.0.1:{port}/0", max_rate=6, expected_processes=2)
    requests = lambda: sum(emu.stats()["requests"] for emu in mirrors)  # noqa: E731
    with own_redis(port):
        procs = start_workers(2, env, "--threads", 4, "--seconds", 6, start_in=1.0)
        time.sleep(2.5)
    # Redis is gone (killed, its data lost) for 2 seconds; then a new, empty one starts.
    before = requests()
    time.sleep(2)
    during = requests() - before
    with own_redis(port):
        out = results(procs)
    assert [emu.stats()["violations"] for emu in mirrors] == [0, 0]
    assert during > 0  # calls went on while Redis was down
    assert [r["errors"] for r in out] == [{}, {}]
    for worker in out:
        assert "Redis unreachable" in worker["log"]
        assert "at most 3 calls per 1 s" in worker["log"]
        assert "Redis is reachable again" in worker["log"]


def readme_example():
    """The Python block of the README's section on calling the API from your own code."""
    section = README.read_text().split("## Calling the API from your own code", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs_with_threads_and_processes(mirrors, redis_url, forget, tmp_path):
    forget(mirrors)
    (tmp_path / "newest.py").write_text(readme_example())
    env = {**os.environ, **worker_env(mirrors, redis_url), "STACKQ_API_CACHE_TTL": "600"}
    env["PYTHONPATH"] = str(README.parent)
    run = subprocess.run([sys.executable, "newest.py"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["thread"] * 6 + ["process"] * 6
    expected = mirrors[0].search("stackoverflow", q="python", sort="creation")[:3]
    assert f"thread python {[q['title'] for q in expected]!r}" in lines
    # The processes were answered from the cache the threads filled.
    assert sum(emu.stats()["by_method"].get("search/advanced", 0) for emu in mirrors) == 6

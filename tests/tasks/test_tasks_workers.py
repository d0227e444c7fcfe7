"""The task worker inside the real `refresh_queries` processes: two at once, kill -9,
SIGTERM, beside a refresh cycle. Each module has a database and Redis of its own."""

import signal
import time

import pytest
from sqlalchemy import func, select

from stackq.models import RefreshRun, SearchPosition, Task
from tests.support import tasks as tasks_support
from tests.support.stack import start_refresher
from tests.support.tasks import load_task, log_lines, queue_task
from tests.support.waiting import wait_until

# The fixtures of every task-queue module (tests/support/tasks.py).
clean = tasks_support.clean

FAST = ("--task-heartbeat", "0.5", "--task-stale-after", "3")
# Three stored upstream pages: with a second of back-off per call, a refresh takes seconds.
PAGES = (("activity", "desc", 1), ("activity", "desc", 2), ("creation", "desc", 1))


@pytest.fixture
def processes():
    """Start refresh_queries processes; every one still alive is killed after the test."""
    started = []

    def start(stack, log_path, *args):
        proc = start_refresher(stack.ini, *args, log_path=log_path)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def state_of(stack, task_id):
    return load_task(stack, task_id).state


def slow_refresh(stack, upstream, q="asyncio"):
    """A queued refresh task that takes seconds (its search's pages stored first)."""
    search_id = stack.save_search(q, orders=PAGES)
    upstream.mutate("stackoverflow", q, changed=2)
    upstream.configure(backoff={"search/advanced": 1})
    return search_id, queue_task(stack, "refresh", {"query_id": search_id})


def no_duplicate_positions(stack):
    with stack.session() as dbsession:
        rows = dbsession.execute(
            select(SearchPosition.search_id, func.count(),
                   func.count(SearchPosition.question_id.distinct()))
            .group_by(SearchPosition.search_id, SearchPosition.sort,
                      SearchPosition.direction)).all()
    return all(count == distinct for _, count, distinct in rows)


def test_two_workers_at_once_run_each_task_once_never_two_at_a_time(
        clean, processes, tmp_path):
    searches = [clean.save_search(q) for q in ("asyncio", "django", "sqlalchemy")]
    ids = [queue_task(clean, "refresh", {"query_id": searches[i % 3]}) for i in range(8)]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [processes(clean, log, "--tasks-only", *FAST) for log in logs]
    wait_until(lambda: all(state_of(clean, i) == "done" for i in ids), 60, "every task done")
    tasks = sorted((load_task(clean, i) for i in ids), key=lambda t: t.started_at)
    for task in tasks:
        starts = [line for line in log_lines(clean, task.id) if line.startswith("started by")]
        assert (len(starts), task.attempts) == (1, 0), log_lines(clean, task.id)
    for before, after in zip(tasks, tasks[1:], strict=False):
        assert before.finished_at <= after.started_at, "two tasks ran at once"
    for proc in workers:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert all("Traceback" not in log.read_text() for log in logs)


def test_kill_9_mid_task_is_rescued_by_heartbeat_and_run_again_without_duplicates(
        clean, upstream, processes, tmp_path):
    search_id, task_id = slow_refresh(clean, upstream)
    first = processes(clean, tmp_path / "killed.log", "--tasks-only", *FAST)
    wait_until(lambda: log_lines(clean, task_id)[1:], 30, "the refresh to be under way")
    first.kill()
    first.wait(10)
    assert state_of(clean, task_id) == "running"  # nobody knows yet

    second = processes(clean, tmp_path / "rescuer.log", "--tasks-only", *FAST)
    wait_until(lambda: state_of(clean, task_id) == "done", 60, "the rescued task")
    task = load_task(clean, task_id)
    assert task.attempts == 1 and task.result["changed"] == 2
    lines = log_lines(clean, task_id)
    assert "its worker stopped answering: queued again" in lines
    assert any(line.startswith("resumed (attempt 2)") for line in lines)
    assert no_duplicate_positions(clean)
    second.send_signal(signal.SIGTERM)
    assert second.wait(20) == 0


def test_a_killed_workers_task_runs_again_within_20_s_by_default(clean, upstream, processes,
                                                                  tmp_path):
    """The default heartbeat (3 s) and rescue (15 s): a task holds nothing long (issue 23)."""
    _, task_id = slow_refresh(clean, upstream, q="python")
    first = processes(clean, tmp_path / "killed.log", "--tasks-only")
    wait_until(lambda: log_lines(clean, task_id)[1:], 30, "the refresh to be under way")
    first.kill()
    first.wait(10)
    killed_at = time.monotonic()
    processes(clean, tmp_path / "rescuer.log", "--tasks-only")
    wait_until(lambda: load_task(clean, task_id).attempts, 20 - (time.monotonic() - killed_at),
               "the killed worker's task to be queued again")
    assert "its worker stopped answering: queued again" in log_lines(clean, task_id)


def test_sigterm_puts_the_task_under_way_back_and_the_next_worker_resumes_it(
        clean, upstream, processes, tmp_path):
    search_id, task_id = slow_refresh(clean, upstream, q="django")
    log = tmp_path / "stopped.log"
    first = processes(clean, log, "--tasks-only", *FAST)
    wait_until(lambda: log_lines(clean, task_id)[1:], 30, "the refresh to be under way")
    first.send_signal(signal.SIGTERM)
    assert first.wait(30) == 0, log.read_text()
    task = load_task(clean, task_id)
    assert (task.state, task.attempts, task.worker_id) == ("pending", 1, None)
    assert log_lines(clean, task_id)[-1] == "stopped by the worker's shutdown; it resumes later"

    upstream.configure(backoff=None)
    processes(clean, tmp_path / "next.log", "--tasks-only", *FAST)
    wait_until(lambda: state_of(clean, task_id) == "done", 30, "the resumed task")
    assert load_task(clean, task_id).result["changed"] == 2
    assert "Traceback" not in log.read_text()


def test_a_task_starts_while_a_refresh_cycle_runs(clean, upstream, processes, tmp_path):
    topics = ("asyncio", "django", "sqlalchemy", "postgresql")
    # A quota that lets every cycle refresh every search at any time of day: 300 spread over
    # the cycles left until midnight UTC allowed one search a cycle early in the day.
    upstream.configure(quota=100_000)
    ids = [clean.save_search(q) for q in topics]
    # A cycle of 15 s or more (4 calls, each after the last one's back-off): time for a
    # loaded machine to start the task while it runs, none for one that waits for its end.
    upstream.configure(backoff={"search/advanced": 5})
    processes(clean, tmp_path / "both.log", "--workers", "1", "--interval", "600", *FAST)

    def cycle_under_way():
        with clean.session() as dbsession:
            return dbsession.scalar(select(RefreshRun).where(RefreshRun.finished_at.is_(None)))

    wait_until(cycle_under_way, 30, "a refresh cycle to start")
    task_id = queue_task(clean, "refresh", {"query_id": ids[0]})
    wait_until(lambda: load_task(clean, task_id).started_at, 30, "the task to start")
    wait_until(lambda: not cycle_under_way(), 60, "the cycle to end")
    with clean.session() as dbsession:
        run = dbsession.scalars(select(RefreshRun)).one()
    # The task did not wait for the cycle.
    assert load_task(clean, task_id).started_at < run.finished_at


def test_no_tasks_leaves_the_queue_to_other_processes(clean, processes, tmp_path):
    search_id = clean.save_search("gevent")
    task_id = queue_task(clean, "refresh", {"query_id": search_id})
    log = tmp_path / "refresh-only.log"
    proc = processes(clean, log, "--no-tasks", "--interval", "600")
    wait_until(lambda: "next cycle in" in log.read_text(), 30, "a refresh cycle to run")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    assert state_of(clean, task_id) == "pending"
    assert "task worker" not in log.read_text()
    with clean.session() as dbsession:
        assert dbsession.scalar(select(func.count()).select_from(Task)) == 1

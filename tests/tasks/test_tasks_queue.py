"""The queue and its worker in this process, on a database and Redis of their own:
claim order, one task at a time, heartbeats and rescue, cancel, stop and resume."""

import threading
import time
from datetime import timedelta

import pytest
import webtest
from sqlalchemy import func, select

from stackq import main
from stackq.infra import registry
from stackq.infra.clock import utcnow
from stackq.models import SavedSearch, Task, Worker
from stackq.tasks import claim
from stackq.tasks.events import TaskNotices, task_message
from stackq.tasks.kinds import Kind
from stackq.tasks.prune import prune_finished
from stackq.tasks.queue import cancel_task
from stackq.tasks.worker import TaskWorker
from tests.support import tasks as tasks_support
from tests.support.apps import ROOT
from tests.support.tasks import load_task, log_lines, queue_task, task_notices
from tests.support.waiting import wait_until

# The fixtures of every task-queue module (tests/support/tasks.py).
clean = tasks_support.clean


@pytest.fixture
def kinds():
    """The kinds the worker runs: the app's, and whatever a test adds."""
    return tasks_support.feature_kinds()


@pytest.fixture
def worker(clean, kinds):
    """A TaskWorker on its own thread; stopped (and joined) after the test."""
    stopping = threading.Event()
    started = []

    def start(**options):
        worker = TaskWorker(clean.session_factory, clean.api, clean.redis, stopping,
                            kinds=kinds, poll=0.05, **options)
        started.append(worker.start())
        return worker

    start.stopping = stopping
    yield start
    stopping.set()
    for thread in started:
        thread.join(20)


@pytest.fixture
def napping_kind(kinds):
    """A kind of task that sleeps in `pages` steps, checking should_stop after each."""
    def run(context, params):
        for page in range(1, params["pages"] + 1):
            time.sleep(params.get("seconds", 0.02))
            context.report(f"page {page}", progress=page / params["pages"],
                           checkpoint={"pages": page})
            if context.should_stop():
                from stackq.tasks.context import TaskInterrupted
                raise TaskInterrupted()
        return {"pages": params["pages"], "resumed": context.resumed}

    kinds["nap"] = Kind("nap", "test", {"pages": {"type": "integer"}}, ("pages",), run)
    return "nap"


def test_claims_follow_run_after_then_id_and_wait_for_the_delay(clean):
    now = utcnow()
    late = queue_task(clean, "refresh", {"query_id": 1}, delay=60, now=now)
    first = queue_task(clean, "refresh", {"query_id": 1}, now=now)
    second = queue_task(clean, "refresh", {"query_id": 1}, now=now)
    order = []
    for _ in range(3):
        claimed = claim.claim_next(clean.session_factory, "w", now=now + timedelta(seconds=1))
        if claimed is None:
            break
        order.append(claimed.id)
        claim.finish(clean.session_factory, claimed.id, "w", "done")
    assert order == [first, second]  # the delayed one is not due yet
    assert claim.claim_next(clean.session_factory, "w", now=now + timedelta(seconds=61)).id == late
    numbers = [load_task(clean, i).number for i in (late, first, second)]
    assert numbers == [1, 2, 3]


def test_nothing_is_claimed_while_a_task_runs(clean):
    first = queue_task(clean, "refresh", {"query_id": 1})
    queue_task(clean, "refresh", {"query_id": 1})
    assert claim.claim_next(clean.session_factory, "a").id == first
    assert claim.claim_next(clean.session_factory, "b") is None
    claim.finish(clean.session_factory, first, "a", "done")
    assert claim.claim_next(clean.session_factory, "b") is not None


def test_two_workers_racing_run_each_task_once_and_never_two_at_once(clean):
    ids = [queue_task(clean, "refresh", {"query_id": 1}) for _ in range(12)]
    runs, overlap, lock = [], [], threading.Lock()
    running = [0]

    def race(name):
        idle = 0
        while idle < 40:
            claimed = claim.claim_next(clean.session_factory, name)
            if claimed is None:
                idle += 1
                time.sleep(0.005)
                continue
            idle = 0
            with lock:
                running[0] += 1
                overlap.append(running[0])
                runs.append((claimed.id, name))
            time.sleep(0.01)
            with lock:
                running[0] -= 1
            assert claim.finish(clean.session_factory, claimed.id, name, "done") is not None
            time.sleep(0.01)  # the other worker's turn to race for the next

    threads = [threading.Thread(target=race, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(task_id for task_id, _ in runs) == ids
    assert max(overlap) == 1
    assert {name for _, name in runs} == {"w0", "w1"}  # both took part: a real race


def test_a_silent_workers_task_is_rescued_a_beating_ones_never(clean):
    now = utcnow()
    old = queue_task(clean, "refresh", {"query_id": 1}, now=now)
    claim.heartbeat(clean.session_factory, "alive", now=now - timedelta(hours=5))
    assert claim.claim_next(clean.session_factory, "alive", now=now).id == old
    # Started hours ago, but its worker beats: a long task is not a dead one.
    claim.heartbeat(clean.session_factory, "alive", now=now)
    assert claim.rescue_orphans(clean.session_factory, 30, now=now + timedelta(seconds=20)) == []
    assert claim.rescue_orphans(clean.session_factory, 30,
                                now=now + timedelta(seconds=31)) == [old]
    task = load_task(clean, old)
    assert (task.state, task.attempts, task.worker_id) == ("pending", 1, None)
    # The dead worker can no longer touch it.
    assert claim.finish(clean.session_factory, old, "alive", "done") is None
    assert not claim.record(clean.session_factory, old, "alive", line="late")


def test_worker_runs_a_refresh_and_tells_every_page(clean, upstream, events, worker):
    search_id = clean.save_search("asyncio")
    upstream.mutate("stackoverflow", "asyncio", new=2, changed=1)
    task_id = queue_task(clean, "refresh", {"query_id": search_id})
    worker()
    notices = task_notices(events, "done")
    task = load_task(clean, task_id)
    assert (task.state, task.progress, task.error) == ("done", 1.0, None)
    assert (task.result["new"], task.result["changed"], task.result["query_id"]) == (
        2, 1, search_id)
    assert task.started_at <= task.finished_at
    lines = log_lines(clean, task_id)
    assert lines[0].startswith("started by ") and lines[-1] == "done"
    assert "2 new, 1 changed, 0 removed" in lines
    assert notices[-1] == task_message(task_id, task.number, "done", 1.0, "done")
    with clean.session() as dbsession:
        assert dbsession.get(SavedSearch, search_id).refreshed_at >= task.started_at


def test_a_refresh_of_a_deleted_search_fails_and_says_why(clean, worker):
    task_id = queue_task(clean, "refresh", {"query_id": 424242})
    worker()
    wait_until(lambda: load_task(clean, task_id).state == "failed", 20, "the task to fail")
    assert load_task(clean, task_id).error == "there is no saved search 424242"


def test_cancel_a_running_task_stops_it_after_the_page(clean, worker, napping_kind):
    task_id = queue_task(clean, napping_kind, {"pages": 500})
    worker()
    wait_until(lambda: load_task(clean, task_id).progress > 0, 20, "the task to start")
    with clean.session_factory.begin() as dbsession:
        cancel_task(dbsession, task_id)
    wait_until(lambda: load_task(clean, task_id).state == "cancelled", 20, "the cancel")
    task = load_task(clean, task_id)
    assert task.progress < 1 and task.finished_at is not None
    assert log_lines(clean, task_id)[-1] == "cancelled"


def test_a_stopping_worker_puts_its_task_back_and_the_next_resumes_it(
        clean, worker, napping_kind):
    task_id = queue_task(clean, napping_kind, {"pages": 40, "seconds": 0.05})
    worker()
    wait_until(lambda: load_task(clean, task_id).progress > 0, 20, "the task to start")
    worker.stopping.set()
    wait_until(lambda: load_task(clean, task_id).state == "pending", 20, "the task put back")
    stopped = load_task(clean, task_id)
    assert stopped.attempts == 1 and 0 < stopped.result["pages"] < 40

    worker.stopping.clear()
    worker()
    wait_until(lambda: load_task(clean, task_id).state == "done", 30, "the resumed task")
    assert load_task(clean, task_id).result == {"pages": 40, "resumed": True}
    assert any(line.startswith("resumed (attempt 2)") for line in log_lines(clean, task_id))


def test_a_killed_workers_task_is_rescued_by_another(clean, worker, napping_kind):
    task_id = queue_task(clean, napping_kind, {"pages": 3})
    # A worker that claimed it, then died: its heartbeat stops.
    claim.heartbeat(clean.session_factory, "dead", now=utcnow() - timedelta(seconds=10))
    assert claim.claim_next(clean.session_factory, "dead").id == task_id
    worker(stale_after=5)
    wait_until(lambda: load_task(clean, task_id).state == "done", 20, "the rescue")
    task = load_task(clean, task_id)
    assert (task.attempts, task.result["resumed"]) == (1, True)
    assert "its worker stopped answering: queued again" in log_lines(clean, task_id)


def test_worker_heartbeats_while_it_runs(clean, worker, napping_kind):
    running = worker(heartbeat=0.2)
    task_id = queue_task(clean, napping_kind, {"pages": 30, "seconds": 0.05})

    def beat():
        with clean.session() as dbsession:
            row = dbsession.get(Worker, running.worker_id)
            return row and row.heartbeat_at

    first = wait_until(beat, 10, "the first heartbeat")
    wait_until(lambda: beat() > first, 10, "a later heartbeat, mid-task")
    wait_until(lambda: load_task(clean, task_id).state == "done", 20, "the task")


def test_notices_are_throttled_and_the_final_one_always_goes_out(clean, events):
    notices = TaskNotices(clean.redis, min_interval=60)
    for page in range(20):
        notices.send(task_message(1, 1, "running", page / 20, f"page {page}"))
    notices.send(task_message(1, 1, "done", 1.0, "done"), final=True)
    sent = task_notices(events, "done")
    assert [n["line"] for n in sent] == ["page 0", "done"]


def test_finished_tasks_older_than_keep_days_are_pruned(clean):
    now = utcnow()
    ids = [queue_task(clean, "refresh", {"query_id": 1}) for _ in range(4)]
    ages = {ids[0]: 40, ids[1]: 10, ids[3]: 40}  # ids[2] stays pending; ids[3] is the newest
    with clean.session_factory.begin() as dbsession:
        for task_id, days in ages.items():
            task = dbsession.get(Task, task_id)
            task.state, task.finished_at = "done", now - timedelta(days=days)
    assert prune_finished(clean.session_factory, 30, now=now) == 1
    with clean.session() as dbsession:
        assert list(dbsession.scalars(select(Task.id).order_by(Task.id))) == ids[1:]
    assert queue_task(clean, "refresh", {"query_id": 1}) and max_number(clean) == 5


def test_the_api_tells_open_pages_once_a_task_is_queued_or_cancelled(clean, events):
    wsgi_app = main({"here": ROOT}, **clean.raw_settings)
    app = webtest.TestApp(wsgi_app)
    try:
        task = app.post_json("/api/tasks", {"q": "redis", "site": "stackoverflow"}).json
        app.delete(f"/api/tasks/{task['id']}")
    finally:
        wsgi_app.registry[registry.EVENTS].stop()  # its Redis goes with this module
    sent = task_notices(events, "cancelled")
    assert [(n["task_id"], n["state"], n["line"]) for n in sent] == [
        (task["id"], "pending", "queued"), (task["id"], "cancelled", "cancelled")]


def max_number(stack):
    with stack.session() as dbsession:
        return dbsession.scalar(select(func.max(Task.number)))

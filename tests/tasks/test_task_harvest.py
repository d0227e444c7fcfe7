"""The `harvest` kind end to end: queued through the API's service, run by the worker in
`refresh_queries`, with the harvest service (stackq.harvest.service)."""

import re
import signal
import threading

from sqlalchemy import func, select

from stackq.models import Answer, SearchPosition
from stackq.tasks.queue import cancel_task
from stackq.tasks.worker import TaskWorker
from tests.support import tasks as tasks_support
from tests.support.stack import start_refresher
from tests.support.tasks import feature_kinds, harvest, load_task, log_lines, stored_pages
from tests.support.waiting import wait_until

# The fixtures of every task-queue module (tests/support/tasks.py).
clean = tasks_support.clean

FAST = ("--tasks-only", "--task-heartbeat", "0.5", "--task-stale-after", "3")


def positions_are_unique(stack):
    with stack.session() as dbsession:
        count, distinct = dbsession.execute(select(
            func.count(), func.count(SearchPosition.question_id.distinct()))).one()
    return count == distinct


def pages_stored(stack, count):
    return lambda: len(stored_pages(stack)) >= count


def run_worker(stack, stopping):
    worker = TaskWorker(stack.session_factory, stack.api, stack.redis, stopping,
                        kinds=feature_kinds(), poll=0.05)
    return worker.start()


def run_until_it_ends(clean, task_id):
    """A worker runs until the task is done or failed; the task then."""
    stopping = threading.Event()
    thread = run_worker(clean, stopping)
    try:
        wait_until(lambda: load_task(clean, task_id).state in ("done", "failed"), 60, "the end")
    finally:
        stopping.set()
        thread.join(20)
    return load_task(clean, task_id)


def test_a_harvest_task_stores_its_pages_and_logs_each(clean):
    task_id = harvest(clean, 3)
    task = run_until_it_ends(clean, task_id)
    assert (task.state, task.error, task.progress) == ("done", None, 1.0)
    assert (task.result["pages"], task.result["stopped"]) == (3, "done")
    assert stored_pages(clean) == [1, 2, 3]
    page_lines = [line for line in log_lines(clean, task_id) if line.startswith("page ")]
    assert [line.split(" ", 2)[1] for line in page_lines] == ["1", "2", "3"]
    # The result adds up every page's questions, not the last page's.
    per_page = [re.search(r"(\d+) new, (\d+) updated", line).groups() for line in page_lines]
    assert (task.result["new"], task.result["updated"]) == (
        sum(int(new) for new, _ in per_page), sum(int(updated) for _, updated in per_page))
    assert task.result["new"] + task.result["updated"] > 200  # three pages of 100


def test_cancel_a_running_harvest_stops_after_the_page(clean, upstream):
    upstream.configure(backoff={"search/advanced": 1})
    task_id = harvest(clean, 10)
    stopping = threading.Event()
    thread = run_worker(clean, stopping)
    try:
        wait_until(pages_stored(clean, 1), 60, "the first page")
        with clean.session_factory.begin() as dbsession:
            cancel_task(dbsession, task_id)
        wait_until(lambda: load_task(clean, task_id).state == "cancelled", 60, "the cancel")
    finally:
        stopping.set()
        thread.join(20)
    assert 1 <= len(stored_pages(clean)) < 10


def test_kill_9_mid_harvest_resumes_after_its_last_stored_page(clean, upstream, tmp_path):
    upstream.configure(backoff={"search/advanced": 1})
    task_id = harvest(clean, 6)
    first = start_refresher(clean.ini, *FAST, log_path=tmp_path / "killed.log")
    try:
        wait_until(pages_stored(clean, 2), 60, "two pages stored")
    finally:
        first.kill()
        first.wait(10)
    before = stored_pages(clean)
    upstream.configure(backoff=None)
    second = start_refresher(clean.ini, *FAST, log_path=tmp_path / "rescuer.log")
    try:
        wait_until(lambda: load_task(clean, task_id).state == "done", 60, "the resumed harvest")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    task = load_task(clean, task_id)
    assert task.attempts == 1 and task.result["pages"] == 6
    assert stored_pages(clean) == [1, 2, 3, 4, 5, 6]
    assert before == stored_pages(clean)[:len(before)]
    assert positions_are_unique(clean)
    assert any(line.startswith("resumed (attempt 2)") for line in log_lines(clean, task_id))


def test_a_harvest_task_asked_for_answers_stores_them_after_its_pages(clean):
    task_id = tasks_support.queue_task(clean, "harvest", {"q": "python", "site": "stackoverflow",
                                                          "pages": 1, "answers": True})
    task = run_until_it_ends(clean, task_id)
    assert (task.state, task.error) == ("done", None)
    with clean.session() as dbsession:
        stored = dbsession.scalar(select(func.count()).select_from(Answer))
    assert task.result["answers"] == stored > 0
    assert any(line.startswith(f"stored {stored} answers of ") for line in
               log_lines(clean, task_id))

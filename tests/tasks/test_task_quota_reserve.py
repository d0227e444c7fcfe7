"""Tasks never spend the daily quota's reserve (issue 29, finding 6): against the emulator over
HTTP and a real Redis, a harvest facing the reserve waits, says so on its page, and resumes
by itself when the quota renews; a refresh someone asked for waits before its first call."""

import threading
from datetime import timedelta

import pytest
import webtest
from bs4 import BeautifulSoup

from stackq.infra.clock import utcnow
from stackq.refresh.plan import quota_from_status
from stackq.tasks.worker import TaskWorker
from tests.support import tasks as tasks_support
from tests.support.apps import stackq_app
from tests.support.clock import Clock
from tests.support.tasks import (
    feature_kinds,
    harvest,
    load_task,
    log_lines,
    queue_task,
    stored_pages,
)
from tests.support.waiting import wait_until

# The fixtures of every task-queue module (tests/support/tasks.py).
clean = tasks_support.clean

QUOTA = 10  # the emulated day's calls; the reserve (20 %) is 2 of them
RESERVE = 0.2


def quota_left(stack):
    return quota_from_status(stack.api.status(), utcnow(), False).remaining


def started_worker(stack, clock):
    stopping = threading.Event()
    worker = TaskWorker(stack.session_factory, stack.api, stack.redis, stopping,
                        kinds=feature_kinds(), poll=0.05, quota_reserve=RESERVE, clock=clock)
    return stopping, worker.start()


def settled(stack, task_id):
    """The task once it stopped running: waiting (pending, a line saying why) or ended."""
    def look():
        task = load_task(stack, task_id)
        lines = log_lines(stack, task_id)
        waiting = task.state == "pending" and lines and lines[-1].startswith("waiting: ")
        return task if waiting or task.state in ("done", "failed", "cancelled") else None
    return look


def renew_the_quota(upstream, stack, clock, task):
    """00:00 UTC: the emulator's day has calls again, the limiter's count of the day ends
    (its Redis state), and the worker's clock reaches the time the task waits for."""
    upstream.configure(quota=1000)
    stack.api.reset()
    clock.advance((task.run_after - clock.now).total_seconds() + 1)


@pytest.fixture
def page_app(request, clean):
    app = stackq_app(clean.raw_settings, clean.engine, request.addfinalizer)
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})


def test_a_harvest_at_the_reserve_waits_says_so_and_resumes_when_the_quota_renews(
        clean, upstream, page_app):
    upstream.configure(quota=QUOTA)
    task_id = harvest(clean, 10)
    clock = Clock(utcnow())
    stopping, thread = started_worker(clean, clock)
    try:
        task = wait_until(settled(clean, task_id), 60, "the harvest to wait or end")
        # It stopped short of the reserve, its pages kept, and waits for the renewal.
        assert (task.state, task.error) == ("pending", None), log_lines(clean, task_id)
        assert quota_left(clean) == QUOTA * RESERVE == QUOTA - upstream.stats()["requests"]
        stored = stored_pages(clean)
        assert stored == list(range(1, len(stored) + 1)) and 1 <= len(stored) < 10
        assert task.result["pages"] == len(stored)
        midnight = (clock.now + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                           microsecond=0)
        assert midnight < task.run_after <= midnight + timedelta(minutes=1)
        line = log_lines(clean, task_id)[-1]
        assert line == ("waiting: the daily API quota's reserve (2 of 10 calls) is kept for "
                        "people browsing (2 left); resumes at 00:00 UTC when the quota renews")
        page = BeautifulSoup(page_app.get(f"/tasks/{task_id}").text, "html.parser")
        assert page.select_one(".task-state").text.startswith(line)
        listed = BeautifulSoup(page_app.get("/tasks").text, "html.parser").select_one(
            f'.task-queue tr[data-task-id="{task_id}"] .task-state-cell').text
        assert listed.startswith("pending, resumes in "), listed  # not one more "pending"
        assert load_task(clean, task_id).state == "pending"  # nothing runs it before then

        renew_the_quota(upstream, clean, clock, task)
        wait_until(lambda: load_task(clean, task_id).state in ("done", "failed"), 60,
                   "the resumed harvest")
    finally:
        stopping.set()
        thread.join(20)
    task = load_task(clean, task_id)
    assert (task.state, task.error, task.result["pages"]) == ("done", None, 10)
    assert stored_pages(clean) == list(range(1, 11))
    assert any(line.startswith("resumed (attempt 2)") for line in log_lines(clean, task_id))


def test_a_refresh_task_waits_rather_than_spend_the_reserve(clean, upstream):
    upstream.configure(quota=QUOTA)
    search_id = clean.save_search("asyncio")
    # People browsing spend the day's calls down to the reserve.
    while quota_left(clean) > QUOTA * RESERVE:
        clean.api.fetch("search/advanced", "stackoverflow", q="browsing", max_age=0)
    requests = upstream.stats()["requests"]
    task_id = queue_task(clean, "refresh", {"query_id": search_id})
    clock = Clock(utcnow())
    stopping, thread = started_worker(clean, clock)
    try:
        task = wait_until(settled(clean, task_id), 60, "the refresh to wait or end")
        assert task.state == "pending", log_lines(clean, task_id)
        assert upstream.stats()["requests"] == requests  # not one call of the reserve
        assert "is kept for people browsing" in log_lines(clean, task_id)[-1]
        renew_the_quota(upstream, clean, clock, task)
        wait_until(lambda: load_task(clean, task_id).state in ("done", "failed"), 60,
                   "the refresh after the renewal")
    finally:
        stopping.set()
        thread.join(20)
    task = load_task(clean, task_id)
    assert (task.state, task.error) == ("done", None)
    assert upstream.stats()["requests"] > requests


def test_a_refresh_no_day_could_hold_fails_saying_so_rather_than_wait_forever(clean, upstream):
    search_id = clean.save_search("asyncio")  # its refresh takes 3 calls
    upstream.reset()  # a new day's counters (the questions are as they were)
    upstream.configure(quota=3)  # a day leaves 2 above the reserve (1)
    # The limiter learns the day's size from an answer.
    clean.api.fetch("search/advanced", "stackoverflow", q="browsing", max_age=0)
    task_id = queue_task(clean, "refresh", {"query_id": search_id})
    stopping, thread = started_worker(clean, Clock(utcnow()))
    try:
        task = wait_until(settled(clean, task_id), 60, "the refresh to end")
    finally:
        stopping.set()
        thread.join(20)
    assert task.state == "failed"
    assert "takes 3 API calls, more than a day's quota leaves above the reserve" in task.error

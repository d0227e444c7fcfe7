"""Two hosts on one machine: host A and host B are network namespaces on a private bridge, each
running gunicorn (2 workers, production.ini) and `refresh_queries`; PostgreSQL, Redis and two
emulated mirrors are at a third address on the bridge (tests/support/two_hosts.py).

Accounts are on, as production.ini has them. Tests run in file order on one pair of hosts: the
last kills every process of host A.
Skipped, saying why, where network namespaces cannot be made (not root).
"""

import contextlib
import json
import os
import signal
import time
from datetime import UTC, datetime

import pytest
import websocket
from sqlalchemy import func, select

from stackq.accounts.throttle import LIMIT
from stackq.infra.pubsub import publish
from stackq.models import FetchedPage, RefreshRun, SavedSearch, SearchPosition, Task, TaskLine
from stackq.refresh.cycle import LOCK_KEY
from stackq.testing.emulator import Emulator
from tests.support.accounts import PASSWORD
from tests.support.netns import NetnsUnavailable, why_unavailable
from tests.support.postgres_cluster import ClusterUnavailable
from tests.support.refresh_cycles import stored_page_one, top_ids
from tests.support.searches import form_token
from tests.support.two_hosts import OneNameBrowser, two_hosts
from tests.support.waiting import wait_until

SEARCHES = ("asyncio", "django", "numpy", "pandas", "postgresql", "sqlalchemy")
# Harvests queued on host A while its cycle runs: 5 pages each, a few seconds each.
HARVESTS = ("python", "java", "javascript")
PAGES = 5
# Every API call takes this long: a cycle (a call per search, one at a time) takes seconds.
LATENCY = 0.5
REFRESHER = ("--interval", "10", "--workers", "1")
TAKEOVER = 20.0  # seconds host B may take to run the next cycle after host A died


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)

    with contextlib.ExitStack() as mirrors_stack:
        def mirrors(address):
            found = [mirrors_stack.enter_context(Emulator(host=address, port=0)) for _ in "ab"]
            for mirror in found:
                # A day's quota so large that every cycle refreshes every search (the plan
                # spreads the quota over the day's cycles: 10,000 is 2 calls a 10 s cycle).
                mirror.configure(keyed_quota=100_000_000)
            return found

        try:
            site = two_hosts(tmp_path_factory.mktemp("two-hosts"), mirrors, SEARCHES, REFRESHER)
            found = site.__enter__()
        except (NetnsUnavailable, ClusterUnavailable) as error:
            pytest.skip(f"no two hosts on this machine: {error}")
        try:
            yield found
        finally:
            site.__exit__(None, None, None)


def now():
    """Naive UTC, as the refresher and the task worker record times."""
    return datetime.now(UTC).replace(tzinfo=None)


def wait_for(hosts, condition, timeout, what):
    """wait_until, every 0.2 s (each look is a query); on a timeout, what the hosts logged."""
    try:
        return wait_until(condition, timeout, what, interval=0.2)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{hosts.output()}") from None


def received(ws, match, timeout=10.0):
    """The first message on `ws` for which `match(message)` holds (other notices skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        ws.settimeout(max(0.01, deadline - time.monotonic()))
        message = json.loads(ws.recv())
        if match(message):
            return message


def test_a_task_queued_on_host_a_is_announced_to_every_socket_on_host_b(hosts):
    sockets = [hosts.b.connect() for _ in range(6)]
    # Each of host B's workers subscribes once a socket is open: a probe heard by every
    # socket means every one of them listens.
    probe = {"type": "task", "task_id": 0, "number": 0, "state": "probe", "progress": 0}

    def all_listening():
        publish(hosts.stack.redis, probe)
        try:
            for ws in sockets:
                received(ws, lambda m: m.get("state") == "probe", timeout=0.5)
        except websocket.WebSocketTimeoutException:
            return False
        return True

    wait_until(all_listening, 20, "host B's workers to listen")
    task = hosts.a.post_task({"kind": "harvest", "q": "http", "site": "stackoverflow"})
    for ws in sockets:
        notice = received(ws, lambda m: m.get("task_id") == task["id"])
        assert (notice["state"], notice["line"]) == ("pending", "queued")
        ws.close()


def test_signed_in_on_host_a_the_user_changes_things_on_host_b_until_signing_out_there(hosts):
    a, b, record = hosts.a, hosts.b, Record(hosts.stack)
    search = record.search_id(SEARCHES[0])
    browser = OneNameBrowser()

    def change(host, action):
        token = form_token(browser.get(host, "/queries/new")[1])
        return browser.post(host, f"/queries/{search}/{action}", {"csrf_token": token})[0]

    assert change(a, "pause") == change(b, "pause") == 403
    token = form_token(browser.get(a, "/login")[1])
    signed_in = browser.post(a, "/login", {"username": "alice", "password": PASSWORD,
                                           "csrf_token": token, "next": "/"})
    assert signed_in[0] == 303, signed_in
    assert 'class="account-name">alice<' in browser.get(b, "/")[1]
    assert change(b, "pause") == 303 and record.paused(search) is True
    assert change(b, "resume") == 303 and record.paused(search) is False
    copied = OneNameBrowser(browser.cookies)
    token = form_token(browser.get(b, "/queries/new")[1])
    assert browser.post(b, "/logout", {"csrf_token": token})[0] == 303
    # The copy from before signing out is refused by the other host too (signed_out.py).
    refused = copied.post(a, f"/queries/{search}/pause", {"csrf_token": token})
    assert refused[0] == 403 and "Sign in to change anything here" in refused[1]
    assert record.paused(search) is False


def test_failed_sign_ins_on_host_a_hold_the_name_back_on_host_b(hosts):
    browser = OneNameBrowser()

    def sign_in(host):
        token = form_token(browser.get(host, "/login")[1])
        return browser.post(host, "/login", {"username": "mallory", "password": "guess",
                                             "csrf_token": token, "next": "/"})[0]

    assert [sign_in(hosts.a) for _ in range(LIMIT)] == [400] * LIMIT
    assert sign_in(hosts.b) == 429


class Record:
    """What the database says about cycles and tasks."""

    def __init__(self, stack):
        self.stack = stack

    def runs(self):
        with self.stack.session() as dbsession:
            return list(dbsession.scalars(select(RefreshRun).order_by(RefreshRun.started_at)))

    def running_cycle(self):
        return next((run for run in self.runs() if run.finished_at is None), None)

    def tasks(self):
        with self.stack.session() as dbsession:
            return list(dbsession.scalars(select(Task).order_by(Task.id)))

    def lines(self, task_id):
        with self.stack.session() as dbsession:
            return list(dbsession.scalars(select(TaskLine.line).where(TaskLine.task_id == task_id)
                                          .order_by(TaskLine.id)))

    def paused(self, search_id):
        with self.stack.session() as dbsession:
            return dbsession.get(SavedSearch, search_id).paused

    def search_id(self, q):
        with self.stack.session() as dbsession:
            return dbsession.scalar(select(SavedSearch.id).where(SavedSearch.q == q))

    def pages(self, q):
        """The upstream page numbers stored for the harvest of `q` (rows: one each)."""
        with self.stack.session() as dbsession:
            return sorted(dbsession.scalars(select(FetchedPage.page).where(
                FetchedPage.search_id == self.search_id(q), FetchedPage.sort == "activity")))

    def shown_twice(self):
        """Questions shown twice in one order of one search."""
        with self.stack.session() as dbsession:
            return dbsession.execute(
                select(SearchPosition.search_id, SearchPosition.question_id).group_by(
                    SearchPosition.search_id, SearchPosition.sort, SearchPosition.direction,
                    SearchPosition.question_id).having(func.count() > 1)).all()


def test_kill_9_of_host_a_mid_cycle_host_b_takes_over_losing_and_doubling_nothing(hosts):
    a, b, record = hosts.a, hosts.b, Record(hosts.stack)
    for mirror in hosts.mirrors:
        mirror.configure(latency=LATENCY)

    def a_cycle_running():
        run = record.running_cycle()
        return run is not None and a.runs(run.runner)

    def a_task_running(progress=0.0):
        return any(task.state == "running" and a.runs(task.worker_id)
                   and task.progress > progress for task in record.tasks())

    def b_held_between_its_cycles():
        """Host B's refresher stopped while the refresh lock is free (or host A's): with
        cycles of both every 10 s that took most of each 10 s under load, host B could win
        the lock every time for a minute."""
        os.kill(b.refresher.pid, signal.SIGSTOP)
        if hosts.stack.redis.exists(LOCK_KEY) and not a_cycle_running():
            os.kill(b.refresher.pid, signal.SIGCONT)  # B's cycle, or about to be: not now
            return False
        return True

    try:
        wait_for(hosts, lambda: a_cycle_running() or b_held_between_its_cycles(), 60,
                 "host B's refresher between two of its cycles")
        wait_for(hosts, a_cycle_running, 30, "a cycle run by host A")
    finally:
        os.kill(b.refresher.pid, signal.SIGCONT)
    # One task runs at a time, and the worker that ends one takes the next at once: host B's
    # refresher is paused while host A's worker takes the first, so host A holds one.
    os.kill(b.refresher.pid, signal.SIGSTOP)
    try:
        for q in HARVESTS:
            a.post_task({"kind": "harvest", "q": q, "site": "stackoverflow", "pages": PAGES})
        wait_for(hosts, lambda: a_task_running(-1), 10, "host A's worker to take a task")
    finally:
        os.kill(b.refresher.pid, signal.SIGCONT)
    wait_for(hosts, lambda: a_cycle_running() and a_task_running(), 30,
             "host A mid-cycle and mid-task")
    a.host.kill_everything()
    wait_until(lambda: not a.host.pids(), 10, "host A's processes to die")
    killed_at, killed = now(), time.monotonic()
    # Upstream changes host B's next cycle must store, on both mirrors alike (in one second
    # of the clock: their times are the second's).
    time.sleep(1 - time.time() % 1)
    for mirror in hosts.mirrors:
        mirror.mutate("stackoverflow", "asyncio", new=3, changed=2)
    assert hosts.mirrors[0].search("stackoverflow", "asyncio") == \
        hosts.mirrors[1].search("stackoverflow", "asyncio")

    def b_cycle_after_kill(finished=False):
        return any(b.runs(run.runner) and run.started_at > killed_at
                   and (run.finished_at is not None or not finished) for run in record.runs())

    wait_for(hosts, b_cycle_after_kill, TAKEOVER, "host B's cycle after host A died")
    assert time.monotonic() - killed <= TAKEOVER
    wait_for(hosts, lambda: b_cycle_after_kill(finished=True), 30, "host B's cycle to finish")
    wait_for(hosts, lambda: all(t.state == "done" for t in record.tasks()), 60,
             "every task done")

    # One cycle at a time across hosts: host A's, cut by the kill, ended with it.
    runs = record.runs()
    assert {a.runs(run.runner) for run in runs} == {True, False}
    cut = [run for run in runs if a.runs(run.runner) and run.finished_at is None]
    assert len(cut) == 1 and cut[0].state == "interrupted"
    for before, after in zip(runs, runs[1:], strict=False):
        ended = killed_at if before is cut[0] else before.finished_at
        assert ended is not None and ended <= after.started_at, (before.id, after.id)

    # Each task run once: started once; host A's, cut by the kill, resumed once by host B.
    rescued = 0
    for task in record.tasks():
        lines = record.lines(task.id)
        resumes = [line for line in lines if line.startswith("resumed (attempt 2) by")]
        assert len([line for line in lines if line.startswith("started by")]) == 1, lines
        assert task.attempts == len(resumes) <= 1, lines
        rescued += task.attempts
    assert rescued >= 1  # host A held a task when it died
    for q in HARVESTS:
        assert record.pages(q) == list(range(1, PAGES + 1)), q
    assert record.shown_twice() == []
    for q in SEARCHES:
        assert stored_page_one(hosts.stack, record.search_id(q)) == \
            top_ids(hosts.mirrors[0], q=q), q
    for mirror in hosts.mirrors:
        assert mirror.stats()["violations"] == 0, mirror.stats()
    assert "Traceback" not in b.output(), b.output()

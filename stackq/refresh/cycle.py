"""One refresh cycle, planned within the daily quota, under a Redis lock every refresher shares.

Per job (a search's changes, a re-read, a total): fetch (network only), then one short
transaction that stores, diffs and counts it into the cycle's `RefreshRun` row and queues
its notices; once it has committed, the after-commit hook (models.changes) drops the cached
pages of the searches it changed, then publishes the notices.
A refresher killed at any point leaves every job either stored and counted or untouched;
upserts make the next cycle's rewrite of the same rows harmless.
"""

import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass

import redis
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from ..infra.clock import utcnow
from ..models import RefreshRun, new_transaction
from ..models.changes import listings_changed
from ..notify.publish import queue_query_updated
from ..stackexchange import StackExchangeError
from ..stackexchange.access import Stopped
from ..watch.changes import prune_events
from .calls import DEFAULT_DEADLINE, CycleBudget, cycle_api, worth_retrying
from .diff import change_notice, remember_shown
from .jobs import OutOfBudget
from .plan import CyclePlan, PlanSettings, quota_from_status
from .runs import last_finished_run
from .state import cycle_jobs, plan_now

log = logging.getLogger(__name__)

LOCK_KEY = "stackq:refresh:lock"
# The lock's heartbeat: renewed every ttl/3 s while a cycle runs, so a refresher killed
# with -9 holds it 10 s at most and the next one runs a cycle within LOCK_POLL after.
DEFAULT_LOCK_TTL = 10.0
DEFAULT_WORKERS = 4
RENEW_RETRY = 0.5  # seconds between renewals while Redis does not answer
# Once stopping, the calls under way get this long to be answered and stored; a call
# still unanswered then is abandoned (its method slot stays held until its in-flight
# bound, as a killed process's does), so a stop takes well under 10 s.
STOP_GRACE = 5.0


class RefreshLock:
    """The one-cycle-at-a-time lock, with a heartbeat: it expires `ttl` s after its last
    renewal, and a thread renews it every ttl/3 s while it is held (redis-py's reacquire:
    one Lua script that extends it only if it still holds our token).

    A refresher killed with -9 stops renewing, so another can take over after `ttl` seconds.
    """

    def __init__(self, redis_client, ttl=DEFAULT_LOCK_TTL):
        self.ttl = ttl
        # thread_local=False: the renewing thread must see the token the main thread took.
        self._lock = redis_client.lock(LOCK_KEY, timeout=ttl, thread_local=False)
        self.lost = threading.Event()
        self._done = threading.Event()
        self._renewer = None

    def acquire(self):
        """True if taken; raises redis.RedisError when Redis cannot be reached."""
        if not self._lock.acquire(blocking=False):
            return False
        self.lost.clear()
        self._done.clear()
        self._renewer = threading.Thread(target=self._renew, name="refresh-lock", daemon=True)
        self._renewer.start()
        return True

    def _renew(self):
        renewed, wait = time.monotonic(), self.ttl / 3
        while not self._done.wait(wait):
            try:
                self._lock.reacquire()
                renewed, wait = time.monotonic(), self.ttl / 3
            except redis.RedisError as error:
                # Redis away for a moment (a Sentinel failover keeps the lock): it holds until
                # `ttl` after the last renewal, so try again until then. LockError: not ours.
                wait = min(RENEW_RETRY, self.ttl / 3)
                if isinstance(error, redis.exceptions.LockError) or \
                        time.monotonic() - renewed + wait >= self.ttl:
                    log.error("lost the refresh lock (%s): stopping after the current searches",
                              error)
                    self.lost.set()
                    return

    def release(self):
        self._done.set()
        if self._renewer is not None:
            self._renewer.join()
        try:
            self._lock.release()
        except (redis.RedisError, redis.exceptions.LockError):
            pass  # expired or Redis gone: it frees itself


@dataclass
class CycleReport:
    run_id: int
    state: str
    searches: int = 0
    calls: int = 0
    changes: int = 0
    errors: int = 0
    plan: CyclePlan | None = None


def runner_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def quota_of(api, settings):
    """What the access layer knows of the quota, as the planner wants it."""
    return lambda now: quota_from_status(api.status(), now, settings.has_key)


class RefreshCycle:
    """Refresh the saved searches once, as far as the daily quota allows (see refresh_plan).

    `should_stop()` returns None to go on, or the state to end the run in ("stopped",
    "lock_lost"): no job starts, calls under way get STOP_GRACE s to be answered and
    stored (on a process's stop, `ApiAccess.stop`, calls waiting for a slot give up at once).
    A job the API failed is tried once more after the others. `deadline`: seconds the cycle
    may take (its calls wait for a free slot until then). `clock` and `quota(now)` can be
    given, so a test can run a day in seconds.
    """

    def __init__(self, session_factory, api, workers=DEFAULT_WORKERS,
                 should_stop=lambda: None, settings=None, clock=utcnow, quota=None,
                 deadline=DEFAULT_DEADLINE):
        self.session_factory = session_factory
        self.api = api
        self.workers = max(1, workers)
        self.should_stop = should_stop
        self.settings = settings or PlanSettings()
        self.clock = clock
        self.quota = quota or quota_of(api, self.settings)
        self.deadline_seconds = deadline
        self._deadline = None
        self._retry = deque()
        # Fetches run in parallel; writes one at a time: short transactions, and no two
        # of ours upserting shared questions in different orders (a PostgreSQL deadlock).
        self._write_lock = threading.Lock()

    def run(self):
        self._deadline = time.monotonic() + self.deadline_seconds
        now = self.clock()
        run_id = self.start_run(now)
        with self.session_factory() as dbsession:
            plan = plan_now(dbsession, self.quota(now), now, self.settings)
            pending = deque(cycle_jobs(dbsession, plan))
        log.info("refresh cycle %d plan: %d searches (%d left for later), %d re-read calls, "
                 "%d for answers, %d totals: %d calls of %d allowed (%d until the quota "
                 "renews)", run_id, len(plan.searches), len(plan.left),
                 sum(plan.rereads.values()), sum(plan.answers.values()), len(plan.totals),
                 plan.calls, plan.budget, plan.spendable)
        budget = CycleBudget(plan.spendable)
        threads = [threading.Thread(target=self._work, args=(run_id, pending, budget),
                                    name=f"refresh-{i}", daemon=True)
                   for i in range(min(self.workers, len(pending)))]
        for thread in threads:
            thread.start()
        self._join(threads)
        report = self.finish_run(run_id, self.should_stop() or "finished")
        report.plan = plan
        return report

    def _join(self, threads):
        """Wait for the workers; once stopping, STOP_GRACE s at most (then a worker still in
        a call is left to it: a daemon thread, gone with the process)."""
        give_up = None
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
                if give_up is None and self.should_stop():
                    give_up = time.monotonic() + STOP_GRACE
                if give_up is not None and time.monotonic() >= give_up:
                    log.warning("stopping: a call still unanswered after %g s is abandoned",
                                STOP_GRACE)
                    return

    def _work(self, run_id, pending, budget):
        while not self.should_stop():
            try:
                job, last_try = pending.popleft(), False
            except IndexError:
                try:
                    # Whoever queued a retry is still in this loop, so none is left behind.
                    job, last_try = self._retry.popleft(), True
                except IndexError:
                    return
            self.run_job(run_id, job, budget, last_try)

    def start_run(self, now):
        with new_transaction(self.session_factory) as dbsession:
            # We hold the lock, so any run still "running" belongs to a dead refresher.
            dbsession.execute(update(RefreshRun).where(RefreshRun.finished_at.is_(None))
                              .values(state="interrupted"))
            remember_shown(dbsession)
            prune_events(dbsession, now, self.settings.watch_keep_days)
            run = RefreshRun(started_at=now, state="running", runner=runner_name(),
                             searches=0, calls=0, changes=0, errors=0)
            dbsession.add(run)
            dbsession.flush()
            return run.id

    def finish_run(self, run_id, state):
        with new_transaction(self.session_factory) as dbsession:
            run = dbsession.get(RefreshRun, run_id)
            run.finished_at = self.clock()
            run.state = state
            dbsession.flush()
            report = CycleReport(run_id, state, run.searches, run.calls, run.changes, run.errors)
            # The pages listing searches show the last cycle and when each search was
            # refreshed: dropped once this commits, even when no search changed.
            listings_changed(dbsession)
        log.info("refresh cycle %d %s: %d searches, %d API calls, %d changes, %d errors",
                 run_id, state, report.searches, report.calls, report.changes, report.errors)
        return report

    def count(self, dbsession, run_id, searches=0, calls=0, changes=0, errors=0):
        dbsession.execute(
            update(RefreshRun).where(RefreshRun.id == run_id).values(
                searches=RefreshRun.searches + searches, calls=RefreshRun.calls + calls,
                changes=RefreshRun.changes + changes, errors=RefreshRun.errors + errors))

    def run_job(self, run_id, job, budget, last_try=True):
        """Fetch and store one job; an upstream or database error is logged and counted (an
        upstream one only on the `last_try`: before, the job is queued to try again)."""
        api = cycle_api(self.api, budget, self._deadline)
        try:
            fetched = job.fetch(api)
            with self._write_lock:
                self.store(run_id, job, fetched, api.calls)
        except OutOfBudget as error:
            log.info("%s: %s left for a later cycle", error, job)
            return
        except Stopped:
            log.info("stopping: %s left for the next cycle", job)
            self.count_error(run_id, api.calls, errors=0)
            return
        except (StackExchangeError, SQLAlchemyError) as error:
            if not last_try and worth_retrying(error):
                log.info("refresh job %s failed: %s; trying again later in this cycle",
                         job, error)
                self.count_error(run_id, api.calls, errors=0)
                self._retry.append(job)
                return
            log.warning("refresh job %s failed: %s", job, error)
            self.count_error(run_id, api.calls)

    def store(self, run_id, job, fetched, calls):
        """Store one job and count it, in a transaction of its own (announced once it
        commits, each job on its own: browsers hear of a search as soon as it is stored)."""
        now = self.clock()
        with new_transaction(self.session_factory) as dbsession:
            diffs = store_job(dbsession, job, fetched, now)
            self.count(dbsession, run_id, searches=job.refreshes, calls=calls,
                       changes=sum(diff.total for _, diff in diffs))

    def count_error(self, run_id, calls, errors=1):
        try:
            with new_transaction(self.session_factory) as dbsession:
                self.count(dbsession, run_id, calls=calls, errors=errors)
        except SQLAlchemyError:
            log.exception("could not count an error of refresh cycle %d", run_id)


def store_job(dbsession, job, fetched, now):
    """Store one fetched job and queue a `query_updated` notice for each search it changed
    (sent once the transaction commits); its diffs."""
    diffs = job.store(dbsession, fetched, now)
    for search, diff in diffs:
        notice = change_notice(search, diff, now)
        if notice is not None:
            queue_query_updated(dbsession, **notice)
    return diffs


def seconds_until_due(dbsession, interval, now=None):
    """0 when a cycle is due: the last finished one started at least `interval` seconds ago.

    A tenth of the interval (at most a minute) of slack, so that a cron job started every
    `interval` seconds is not skipped for starting a moment early.
    """
    run = last_finished_run(dbsession)
    if run is None:
        return 0.0
    now = now or utcnow()
    slack = min(interval / 10, 60.0)
    elapsed = (now - run.started_at).total_seconds()
    return max(0.0, interval - slack - elapsed)


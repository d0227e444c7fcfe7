"""One refresh cycle over every saved search, under a Redis lock shared by every refresher.

Per search: fetch (network only), then one short transaction that stores, diffs and counts
the search into the cycle's `RefreshRun` row, then (committed) drop its cached pages and
publish its notice. A refresher killed at any point leaves every search either refreshed and
counted or untouched; upserts make the next cycle's rewrite of the same rows harmless.
"""

import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass

import redis
import transaction
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from ..cache import invalidate_searches
from ..models import RefreshRun, SavedSearch, get_tm_session
from ..notify.publish import publish_query_updated
from ..stackexchange import RateLimited, StackExchangeError
from ..stackexchange.access import BACKGROUND
from ..stackexchange.policy import fails_over
from .ingest import utcnow
from .refresh import (
    fetch_refresh,
    remember_shown,
    saved_search_ids,
    store_refresh,
    stored_pages,
)
from .refresh_runs import last_run

log = logging.getLogger(__name__)

LOCK_KEY = "stackq:refresh:lock"
DEFAULT_LOCK_TTL = 60.0
DEFAULT_WORKERS = 4
# A cycle should end before the next is due. Its calls are background ones (pages visitors
# open go first) and wait for a free slot until then: SHORTEST_WAIT to LONGEST_WAIT each.
DEFAULT_DEADLINE = 600.0
SHORTEST_WAIT, LONGEST_WAIT = 30.0, 300.0


class RefreshLock:
    """The one-cycle-at-a-time lock: expires unless renewed, renewed every ttl/3 while held.

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
        while not self._done.wait(self.ttl / 3):
            try:
                self._lock.reacquire()
            except (redis.RedisError, redis.exceptions.LockError) as error:
                log.error("lost the refresh lock (%s): stopping after the current searches", error)
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


class CountingApi:
    """The API seam of a background caller: counts calls (the cycle reports how many it
    made) and lets each wait for a free slot until the cycle's `deadline` (monotonic)."""

    def __init__(self, api, deadline=None):
        self.api = api
        self.calls = 0
        self.deadline = time.monotonic() + DEFAULT_DEADLINE if deadline is None else deadline

    def fetch(self, method, site=None, **params):
        self.calls += 1
        left = self.deadline - time.monotonic()
        params.setdefault("max_wait", min(LONGEST_WAIT, max(SHORTEST_WAIT, left)))
        params.setdefault("priority", BACKGROUND)
        return self.api.fetch(method, site, **params)


def worth_retrying(error):
    """An upstream failure another try later in the cycle may not meet (busy, throttled,
    down); not a bad parameter or a database error."""
    return isinstance(error, RateLimited) or fails_over(error)


@dataclass
class CycleReport:
    run_id: int
    state: str
    searches: int = 0
    calls: int = 0
    changes: int = 0
    errors: int = 0


def runner_name():
    return f"{socket.gethostname()}:{os.getpid()}"


class RefreshCycle:
    """Refresh every saved search once.

    `should_stop()` returns None to go on, or the state to end the run in ("stopped",
    "lock_lost"): searches under way finish, no other starts. A search whose refresh the
    API failed is tried once more after the others. `deadline`: seconds the cycle may take
    (its calls wait for a free slot until then).
    """

    def __init__(self, session_factory, api, redis_client, workers=DEFAULT_WORKERS,
                 should_stop=lambda: None, deadline=DEFAULT_DEADLINE):
        self.session_factory = session_factory
        self.api = api
        self.redis = redis_client
        self.workers = max(1, workers)
        self.should_stop = should_stop
        self.deadline_seconds = deadline
        self._deadline = None
        self._retry = deque()
        # Fetches run in parallel; writes one at a time: short transactions, and no two
        # of ours upserting shared questions in different orders (a PostgreSQL deadlock).
        self._write_lock = threading.Lock()

    def transaction(self):
        tm = transaction.TransactionManager(explicit=True)
        return tm, get_tm_session(self.session_factory, tm)

    def run(self):
        self._deadline = time.monotonic() + self.deadline_seconds
        run_id = self.start_run()
        with self.session_factory() as dbsession:
            pending = deque(saved_search_ids(dbsession))
        threads = [threading.Thread(target=self._work, args=(run_id, pending),
                                    name=f"refresh-{i}", daemon=True)
                   for i in range(min(self.workers, len(pending)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.finish_run(run_id, self.should_stop() or "finished")

    def _work(self, run_id, pending):
        while not self.should_stop():
            try:
                search_id, last_try = pending.popleft(), False
            except IndexError:
                try:
                    # Whoever queued a retry is still in this loop, so none is left behind.
                    search_id, last_try = self._retry.popleft(), True
                except IndexError:
                    return
            self.refresh_one(run_id, search_id, last_try)

    def start_run(self):
        tm, dbsession = self.transaction()
        with tm:
            # We hold the lock, so any run still "running" belongs to a dead refresher.
            dbsession.execute(update(RefreshRun).where(RefreshRun.finished_at.is_(None))
                              .values(state="interrupted"))
            remember_shown(dbsession)
            run = RefreshRun(started_at=utcnow(), state="running", runner=runner_name(),
                             searches=0, calls=0, changes=0, errors=0)
            dbsession.add(run)
            dbsession.flush()
            return run.id

    def finish_run(self, run_id, state):
        tm, dbsession = self.transaction()
        with tm:
            run = dbsession.get(RefreshRun, run_id)
            run.finished_at = utcnow()
            run.state = state
            dbsession.flush()
            report = CycleReport(run_id, state, run.searches, run.calls, run.changes, run.errors)
        # The pages listing searches show the last cycle and when each search was refreshed.
        invalidate_searches(self.redis, [])
        log.info("refresh cycle %d %s: %d searches, %d API calls, %d changes, %d errors",
                 run_id, state, report.searches, report.calls, report.changes, report.errors)
        return report

    def count(self, dbsession, run_id, searches=0, calls=0, changes=0, errors=0):
        dbsession.execute(
            update(RefreshRun).where(RefreshRun.id == run_id).values(
                searches=RefreshRun.searches + searches, calls=RefreshRun.calls + calls,
                changes=RefreshRun.changes + changes, errors=RefreshRun.errors + errors))

    def refresh_one(self, run_id, search_id, last_try=True):
        """Refresh one search; an upstream or database error is logged and counted (an
        upstream one only on the `last_try`: before, the search is queued to try again)."""
        api = CountingApi(self.api, self._deadline)
        try:
            with self.session_factory() as dbsession:
                search = dbsession.get(SavedSearch, search_id)
                if search is None:
                    return  # deleted since the cycle listed it
                pages = stored_pages(dbsession, search_id)
            # Closed, so no connection is held while fetching (its site is loaded eagerly).
            answers, total = fetch_refresh(api, search, pages)
            with self._write_lock:
                notice = self.store(run_id, search_id, answers, total, api.calls)
        except (StackExchangeError, SQLAlchemyError) as error:
            if not last_try and worth_retrying(error):
                log.info("refresh of saved search %d failed: %s; trying again later in this"
                         " cycle", search_id, error)
                self.count_error(run_id, api.calls, errors=0)
                self._retry.append(search_id)
                return
            log.warning("refresh of saved search %d failed: %s", search_id, error)
            self.count_error(run_id, api.calls)
            return
        if notice is not None:
            self.announce(notice)

    def store(self, run_id, search_id, answers, total, calls):
        """Store one search's refresh and count it; the notice to send once committed."""
        now = utcnow()
        tm, dbsession = self.transaction()
        with tm:
            search = dbsession.get(SavedSearch, search_id)
            if search is None:
                return None
            diff = store_refresh(dbsession, search, answers, total, now)
            self.count(dbsession, run_id, searches=1, calls=calls, changes=diff.total)
            notice = None
            if diff.total:
                notice = {"query_id": search.id, "q": search.q,
                          "site": search.site.api_site_parameter, "at": now, **diff.counts()}
        return notice

    def count_error(self, run_id, calls, errors=1):
        try:
            tm, dbsession = self.transaction()
            with tm:
                self.count(dbsession, run_id, calls=calls, errors=errors)
        except SQLAlchemyError:
            log.exception("could not count an error of refresh cycle %d", run_id)

    def announce(self, notice):
        """After commit: drop the search's cached pages, then tell every browser."""
        try:
            invalidate_searches(self.redis, [notice["query_id"]])
            publish_query_updated(self.redis, **notice)
        except redis.RedisError as error:
            # The refresh is stored; only the live notice is lost.
            log.warning("could not announce the refresh of saved search %d: %s",
                        notice["query_id"], error)


def seconds_until_due(dbsession, interval, now=None):
    """0 when a cycle is due: the last one started at least `interval` seconds ago.

    A tenth of the interval (at most a minute) of slack, so that a cron job started every
    `interval` seconds is not skipped for starting a moment early.
    """
    run = last_run(dbsession)
    if run is None:
        return 0.0
    now = now or utcnow()
    slack = min(interval / 10, 60.0)
    elapsed = (now - run.started_at).total_seconds()
    return max(0.0, interval - slack - elapsed)


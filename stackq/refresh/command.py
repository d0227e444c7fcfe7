"""`refresh_queries development.ini`: keep every saved search fresh.

Every `stackq.refresh.interval` seconds, one refresher among all those sharing the database
and Redis runs a cycle over every saved search (see stackq.refresh.cycle).
SIGTERM or SIGINT: calls waiting for an API slot give up at once, calls under way are
answered and stored (abandoned after a few seconds), the lock is released, exit 0;
a second signal exits at once (a search cut short is rolled back, never half-stored).
"""

import argparse
import logging
import signal
import sys
import threading
import time

import redis
from pyramid.paster import bootstrap, setup_logging
from sqlalchemy.exc import SQLAlchemyError

from ..infra.cli import database_failed
from ..infra.registry import API, DBSESSION_FACTORY, REDIS, settings_of
from ..tasks.worker_cli import add_task_arguments, start_task_worker
from .cycle import (
    DEFAULT_LOCK_TTL,
    DEFAULT_WORKERS,
    STOP_GRACE,
    RefreshCycle,
    RefreshLock,
    seconds_until_due,
)
from .plan import plan_settings

log = logging.getLogger("stackq.refresh")

# While another refresher holds the lock, look again this often.
LOCK_POLL = 5.0
LOCK_BUSY = "another refresher is running a cycle"
# Retry Redis or the database this long after they failed to answer.
RETRY_DELAY = 10.0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="refresh_queries", description=__doc__.splitlines()[0])
    parser.add_argument("config_uri", help="the ini file, e.g. development.ini")
    parser.add_argument("--once", action="store_true",
                        help="run one cycle if one is due, then exit (for cron)")
    parser.add_argument("--interval", type=positive, metavar="N",
                        help="seconds between cycles (default: stackq.refresh.interval)")
    parser.add_argument("--force", action="store_true",
                        help="with --once: run a cycle even if the last one was recent")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, metavar="N",
                        help=f"searches fetched at once (default {DEFAULT_WORKERS})")
    parser.add_argument("--lock-ttl", type=positive, default=DEFAULT_LOCK_TTL, metavar="S",
                        help="seconds before the lock of a refresher that died frees itself "
                             f"(default {DEFAULT_LOCK_TTL:g})")
    add_task_arguments(parser)
    return parser.parse_args(argv[1:])


def positive(text):
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


class Refresher:
    """Decides when a cycle runs: due (by the shared `refresh_runs` table) and lock taken."""

    def __init__(self, registry, interval, workers, lock_ttl, stopping):
        settings = settings_of(registry)
        self.plan_settings = plan_settings(settings, interval)
        self.session_factory = registry[DBSESSION_FACTORY]
        self.api = registry[API]
        self.redis = registry[REDIS]
        self.interval = interval
        self.workers = workers
        self.lock_ttl = lock_ttl
        self.stopping = stopping

    def wait_seconds(self):
        with self.session_factory() as dbsession:
            return seconds_until_due(dbsession, self.interval)

    def try_cycle(self, force=False):
        """Run a cycle if due and nobody else is running one: (report or None, why not)."""
        lock = RefreshLock(self.redis, self.lock_ttl)
        if not lock.acquire():
            return None, LOCK_BUSY
        try:
            # Checked again under the lock: another host may have just finished a cycle.
            wait = 0.0 if force else self.wait_seconds()
            if wait > 0:
                return None, f"a cycle ran recently; the next is due in {wait:.0f} s"

            def stop_reason():
                if lock.lost.is_set():
                    return "lock_lost"
                return "stopped" if self.stopping.is_set() else None

            # A cycle should be done before the next one is due.
            cycle = RefreshCycle(self.session_factory, self.api, self.workers,
                                 should_stop=stop_reason, settings=self.plan_settings,
                                 deadline=self.interval)
            return cycle.run(), None
        finally:
            lock.release()

    def run_forever(self):
        while not self.stopping.is_set():
            try:
                wait = self.next_wait()
            except redis.RedisError as error:
                log.error("Redis does not answer (%s); retrying in %.0f s", error, RETRY_DELAY)
                wait = RETRY_DELAY
            except Exception as error:  # the database: keep the loop alive, say why
                log.error("refresh cycle failed: %s; retrying in %.0f s", error, RETRY_DELAY)
                wait = RETRY_DELAY
            self.stopping.wait(max(0.5, wait))

    def next_wait(self):
        """Run a cycle if one is due; seconds to sleep before looking again."""
        if self.wait_seconds() <= 0:
            report, why_not = self.try_cycle()
            if why_not == LOCK_BUSY:
                log.info("%s; looking again in %.0f s", why_not, LOCK_POLL)
                return LOCK_POLL
        wait = self.wait_seconds()
        log.info("next cycle in %.0f s", wait)
        return wait


def install_signal_handlers(stopping, on_stop):
    """SIGTERM/SIGINT: set `stopping` and call each of `on_stop` (a list filled later)."""
    def handle(signum, frame):
        if stopping.is_set():
            log.warning("second %s: stopping now", signal.Signals(signum).name)
            raise SystemExit(1)
        log.info("%s: no call waits for a slot any more; storing the searches under way,"
                 " then exiting", signal.Signals(signum).name)
        stopping.set()
        for stop in on_stop:
            stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)


def main(argv=sys.argv):
    args = parse_args(argv)
    setup_logging(args.config_uri)
    stopping, on_stop = threading.Event(), []
    install_signal_handlers(stopping, on_stop)
    with bootstrap(args.config_uri) as env:
        registry = env["registry"]
        on_stop.append(registry[API].stop)  # API calls waiting for a slot end at once
        if stopping.is_set():  # a signal while starting up
            registry[API].stop()
        settings = settings_of(registry)
        refresher = Refresher(registry, args.interval or settings.refresh_interval,
                              args.workers, args.lock_ttl, stopping)
        if not args.once:
            # Queued tasks run on a thread of their own: neither loop waits for the other.
            tasks = start_task_worker(registry, args, stopping)
            if args.tasks_only:
                while not stopping.wait(1.0):
                    pass
            else:
                log.info("refreshing every %g s", refresher.interval)
                refresher.run_forever()
            if tasks is not None:
                # A task's call still unanswered after STOP_GRACE s is abandoned with the
                # process; its task, still ours, is queued again once our heartbeat is stale.
                tasks.join(STOP_GRACE)
            return 0
        started = time.monotonic()
        try:
            report, why_not = refresher.try_cycle(force=args.force)
        except redis.RedisError as error:
            print(f"refresh_queries: Redis does not answer ({error}); no cycle ran",
                  file=sys.stderr)
            return 2
        except SQLAlchemyError as error:
            print(f"refresh_queries: {database_failed(error, args.config_uri)}",
                  file=sys.stderr)
            return 2
        if report is None:
            print(f"no refresh cycle: {why_not}")
        else:
            print(f"refresh cycle {report.run_id} {report.state} in "
                  f"{time.monotonic() - started:.1f} s: {report.searches} searches, "
                  f"{report.calls} API calls, {report.changes} changes, {report.errors} errors")
        return 0


if __name__ == "__main__":
    sys.exit(main())

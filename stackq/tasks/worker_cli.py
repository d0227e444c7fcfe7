"""`refresh_queries` options of the task worker, and its start (a thread beside the cycles)."""

import argparse

from ..infra.registry import API, DBSESSION_FACTORY, REDIS, settings_of
from .kinds import kinds_of
from .worker import HEARTBEAT, STALE_AFTER, TaskWorker


def add_task_arguments(parser):
    loops = parser.add_mutually_exclusive_group()
    loops.add_argument("--no-tasks", action="store_true",
                       help="refresh only; run queued tasks elsewhere")
    loops.add_argument("--tasks-only", action="store_true",
                       help="run queued tasks only; refresh elsewhere")
    # For tests: how soon a silent worker's task is rescued (seconds).
    parser.add_argument("--task-stale-after", type=float, default=STALE_AFTER,
                        help=argparse.SUPPRESS)
    parser.add_argument("--task-heartbeat", type=float, default=HEARTBEAT,
                        help=argparse.SUPPRESS)


def start_task_worker(registry, args, stopping):
    """The task loop's thread, started; None with --no-tasks."""
    if args.no_tasks:
        return None
    settings = settings_of(registry)
    worker = TaskWorker(registry[DBSESSION_FACTORY], registry[API],
                        registry[REDIS], stopping, kinds=kinds_of(registry),
                        keep_days=settings.tasks_keep_days,
                        quota_reserve=settings.refresh_quota_reserve,
                        heartbeat=args.task_heartbeat, stale_after=args.task_stale_after)
    return worker.start()

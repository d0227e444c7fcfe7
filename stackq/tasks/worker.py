"""The task loop of `refresh_queries`: claim the next due task, run it, record how it ended.

It runs on a thread of its own beside the refresh loop, so a task never waits for a
refresh cycle and a cycle never waits for a task. A heartbeat thread says this worker is
alive; any worker puts back a running task whose worker went silent (`rescue_orphans`).
"""

import logging
import os
import socket
import threading
import time
import uuid

from sqlalchemy.exc import SQLAlchemyError

from ..infra.clock import utcnow
from ..stackexchange import StackExchangeError
from ..stackexchange.access import Stopped
from . import claim
from .context import TaskContext, TaskDeferred, TaskFailed, TaskInterrupted
from .events import TaskNotices, task_message
from .prune import prune_finished

log = logging.getLogger(__name__)

POLL = 1.0  # a due task starts within this (plus a claim)
# A worker killed with -9 has its task queued again within STALE_AFTER + POLL s.
HEARTBEAT = 3.0
STALE_AFTER = 15.0
RETRY_DELAY = 10.0
PRUNE_EVERY = 3600.0


def new_worker_id():
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class TaskWorker:
    """Runs queued tasks one at a time until `stopping` is set.

    On `stopping` (SIGTERM) the task under way stops at its next page boundary and goes
    back to pending, to be resumed by whichever worker claims it next. A task that must wait
    (TaskDeferred: the quota's reserve) goes back to pending until the time it names.
    `quota_reserve`: the share of the daily quota tasks never spend. `clock` (naive UTC)
    says which tasks are due (a test turns it to run a day).
    """

    def __init__(self, session_factory, api, redis_client, stopping, *, kinds, keep_days=30,
                 poll=POLL, heartbeat=HEARTBEAT, stale_after=STALE_AFTER, quota_reserve=0.2,
                 clock=utcnow):
        self.session_factory = session_factory
        self.kinds = kinds  # name -> tasks.kinds.Kind
        self.api = api
        self.redis = redis_client
        self.stopping = stopping
        self.keep_days = keep_days
        self.poll = poll
        self.heartbeat_every = heartbeat
        self.stale_after = stale_after
        self.quota_reserve = quota_reserve
        self.clock = clock
        self.worker_id = new_worker_id()
        self.notices = None
        self._beating = threading.Event()
        self._last_prune = float("-inf")

    def start(self):
        """The loop on a thread of its own; join it after setting `stopping`."""
        thread = threading.Thread(target=self.run_forever, name="task-worker", daemon=True)
        thread.start()
        return thread

    def run_forever(self):
        log.info("task worker %s: running queued tasks", self.worker_id)
        beats = threading.Thread(target=self._beat, name="task-heartbeat", daemon=True)
        try:
            claim.heartbeat(self.session_factory, self.worker_id)
            beats.start()
            while not self.stopping.is_set():
                try:
                    ran = self.run_next()
                except SQLAlchemyError as error:
                    log.error("task queue failed: %s; retrying in %.0f s",
                              str(error).splitlines()[0], RETRY_DELAY)
                    self.stopping.wait(RETRY_DELAY)
                    continue
                if not ran:
                    self.stopping.wait(self.poll)
        finally:
            self._beating.set()
            if beats.is_alive():
                beats.join()
            try:
                claim.forget_worker(self.session_factory, self.worker_id)
            except SQLAlchemyError:
                pass  # its heartbeat goes stale, which says the same

    def _beat(self):
        last = time.monotonic()
        while not self._beating.wait(0.1):
            if self.notices is not None:
                self.notices.flush()
            if time.monotonic() - last >= self.heartbeat_every:
                last = time.monotonic()
                try:
                    claim.heartbeat(self.session_factory, self.worker_id)
                except SQLAlchemyError as error:
                    log.warning("heartbeat of %s failed: %s", self.worker_id, error)

    def run_next(self):
        """Rescue orphans, then claim and run one due task; False if none was due."""
        for task_id in claim.rescue_orphans(self.session_factory, self.stale_after):
            log.warning("task %d: its worker stopped answering; queued again", task_id)
        if time.monotonic() - self._last_prune >= PRUNE_EVERY:
            self._last_prune = time.monotonic()
            prune_finished(self.session_factory, self.keep_days)
            claim.forget_silent_workers(self.session_factory, PRUNE_EVERY)
        claimed = claim.claim_next(self.session_factory, self.worker_id, now=self.clock())
        if claimed is None:
            return False
        self.run(claimed)
        return True

    def run(self, claimed):
        self.notices = notices = TaskNotices(self.redis)
        context = TaskContext(claimed, self, notices)
        kind = self.kinds.get(claimed.kind)
        how = f"resumed (attempt {claimed.attempts + 1})" if context.resumed else "started"
        log.info("task %d (%s) %s", claimed.id, claimed.kind, how)
        context.log(f"{how} by {self.worker_id}")
        result, error, until, line = None, None, None, None
        try:
            if kind is None:
                raise TaskFailed(f"no kind of task is called {claimed.kind!r}")
            result = kind.run(context, claimed.params)
            state = "done"
        except (TaskInterrupted, Stopped):  # Stopped: a call gave up its wait (shutdown)
            context.should_stop()  # says why, if the kind did not ask
            state = {"cancelled": "cancelled", "stopping": "pending"}.get(context.stop_reason)
        except TaskDeferred as deferred:
            context.should_stop()  # a cancel asked meanwhile ends it rather than wait
            state = {"cancelled": "cancelled", "lost": None}.get(context.stop_reason, "pending")
            if state == "pending":
                until, line = deferred.until, deferred.line
        except (TaskFailed, StackExchangeError) as failure:
            state, error = "failed", str(failure)
        except Exception as failure:  # a bug in a kind must not stop the worker
            log.exception("task %d failed", claimed.id)
            state, error = "failed", f"unexpected error: {failure!r}"
        self.end(claimed, context, state, result, error, until, line)

    def end(self, claimed, context, state, result, error, until=None, line=None):
        """Record how the run ended; a pending task with `until` waits till then, `line`
        saying why."""
        if state is None:  # rescued away from us: its new run reports for it
            log.warning("task %d is no longer ours; leaving it", claimed.id)
            return
        line = line or {"done": "done", "failed": f"failed: {error}", "cancelled": "cancelled",
                        "pending": "stopped by the worker's shutdown; it resumes later"}[state]
        while True:
            try:
                progress = claim.finish(self.session_factory, claimed.id, self.worker_id, state,
                                        result=result, error=error, line=line, run_after=until)
                break
            except SQLAlchemyError as failure:
                # Until it is recorded the task stays ours (our heartbeat goes on): retry.
                log.error("could not record the end of task %d (%s); retrying in %.0f s",
                          claimed.id, str(failure).splitlines()[0], RETRY_DELAY)
                if self.stopping.wait(RETRY_DELAY):
                    return  # stopping: our heartbeat ends, and another worker rescues it
        if progress is None:
            log.warning("task %d is no longer ours; leaving it", claimed.id)
            return
        log.info("task %d %s", claimed.id, line)
        self.notices.send(task_message(claimed.id, claimed.number, state, progress, line),
                          final=True)

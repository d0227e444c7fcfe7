"""What a kind's run function gets: the app's parts, and a way to report and to stop."""

from . import claim
from .events import task_message


class TaskFailed(Exception):
    """The task cannot be done as asked; the message is the task's `error`."""


class TaskInterrupted(Exception):
    """The task stopped at a page boundary (cancel, SIGTERM, or no longer ours)."""


# How a task's log line says it waits (its page shows the line as the task's state).
WAITING = "waiting: "


class TaskDeferred(Exception):
    """The task cannot go on before `until` (naive UTC): it waits, pending, its progress
    kept, and resumes then. `line` (its log's, its page's) says why."""

    def __init__(self, until, reason):
        self.line = WAITING + reason
        super().__init__(self.line)
        self.until = until


class TaskContext:
    """One run of one task.

    `resumed` is true when an earlier run stopped before the end (rescued, or SIGTERM);
    `checkpoint` is the partial result that run stored, for the kind to continue from.
    `quota_reserve` is the share of the daily API quota a task never spends (kept for people
    browsing, `stackq.refresh.quota_reserve`).
    """

    def __init__(self, claimed, worker, notices):
        self.task_id = claimed.id
        self.number = claimed.number
        self.resumed = claimed.attempts > 0
        self.checkpoint = dict(claimed.result or {})
        self.session_factory = worker.session_factory
        self.api = worker.api
        self.redis = worker.redis
        self.quota_reserve = worker.quota_reserve
        self._worker = worker
        self._notices = notices
        self._progress = 0.0
        self.stop_reason = None

    def report(self, line=None, progress=None, checkpoint=None):
        """Store a log line / progress / partial result, then tell the browsers."""
        if progress is not None:
            self._progress = max(0.0, min(1.0, float(progress)))
        if checkpoint is not None:
            self.checkpoint = dict(checkpoint)
        if not claim.record(self.session_factory, self.task_id, self._worker.worker_id,
                            line, progress, checkpoint):
            self.stop_reason = "lost"
            return
        self._notices.send(task_message(self.task_id, self.number, "running", self._progress,
                                        line))

    def log(self, line):
        self.report(line=line)

    def should_stop(self):
        """True once the task must stop at the next page boundary; read after every page."""
        if self.stop_reason is None:
            if self._worker.stopping.is_set():
                self.stop_reason = "stopping"
            else:
                cancel, ours = claim.control(self.session_factory, self.task_id,
                                             self._worker.worker_id)
                if not ours:
                    self.stop_reason = "lost"
                elif cancel:
                    self.stop_reason = "cancelled"
        return self.stop_reason is not None

    @property
    def progress(self):
        return self._progress

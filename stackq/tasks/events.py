"""The `task` notice on `/ws`, published at most a few times a second."""

import logging
import threading
import time

import redis

from ..infra.pubsub import publish
from ..models.changes import queue_notice

log = logging.getLogger(__name__)

# A running harvest logs a line per page; browsers need no more than this.
MIN_INTERVAL = 0.25


def task_message(task_id, number, state, progress, line=None):
    return {"type": "task", "task_id": task_id, "number": number, "state": state,
            "progress": round(float(progress), 4), "line": line}


class TaskNotices:
    """Publishes a task's notices, throttled: a notice held back goes out with `flush()`
    or is replaced by a newer one; a final state always goes out at once."""

    def __init__(self, redis_client, min_interval=MIN_INTERVAL):
        self.redis = redis_client
        self.min_interval = min_interval
        self._last = float("-inf")
        self._held = None
        self._lock = threading.Lock()

    def send(self, message, final=False):
        with self._lock:
            if final or time.monotonic() - self._last >= self.min_interval:
                self._publish(message)
            else:
                self._held = message

    def flush(self):
        """Send the notice held back, once its turn has come (called by a timer)."""
        with self._lock:
            if self._held is not None and time.monotonic() - self._last >= self.min_interval:
                self._publish(self._held)

    def _publish(self, message):
        self._held = None
        self._last = time.monotonic()
        try:
            publish(self.redis, message)
        except redis.RedisError as error:
            # The line and state are stored; only the live notice is lost.
            log.warning("could not publish a notice of task %s: %s", message["task_id"], error)


def announce_after_commit(dbsession, task, line):
    """Once `dbsession`'s transaction commits, tell open pages (a queue page shows the change
    at once); nothing is said of a change that rolled back (models.changes: the hook)."""
    queue_notice(dbsession, task_message(task.id, task.number, task.state, task.progress, line))

"""Which limiter decides: the shared one in Redis, or this process alone while Redis is away.

Redis gone: every process falls back to max_rate ÷ `expected_processes` per mirror, after
holding every call for one window (the calls Redis granted just before are unknown).
Redis back: a call needs both the local and the shared limiter until every other process
has seen Redis back too and handed over its calls (`REJOIN_LAG`), and one window more, so
processes still in fallback and processes already back never add up to more than max_rate;
then the shared limiter alone decides again.
"""

from __future__ import annotations

import logging
import threading
import time

import redis

from ...infra.redis_client import MAX_COOLDOWN, on_master_moved
from ..policy import WINDOW_MARGIN, Grant, Outcome, Wait, window_limit
from .local import LocalLimiter
from .shared import SharedLimiter

__all__ = ["REDIS_ERRORS", "Limiter"]

log = logging.getLogger(__name__)

REDIS_ERRORS = (redis.RedisError, OSError)
# While in fallback, how often a process tries Redis again.
RETRY_INTERVAL = 1.0
# The longest another process can take to see Redis back once this one has: its next retry,
# after its circuit breaker's longest cool-down (a breaker open when Redis came back refuses
# the retries until then). Rejoining for less let one process use the shared limiter alone
# while another still called on its fallback share: a rate violation, seen under CPU load
# (tests/stackexchange/test_access_processes.py).
REJOIN_LAG = MAX_COOLDOWN + RETRY_INTERVAL


class Limiter:
    """Grants calls on mirrors; thread-safe, shared across processes through `redis`."""

    def __init__(self, urls, rate, bound, *, redis_client=None, expected_processes=4,
                 namespace="stackq:api", max_in_flight=1, clock=time.monotonic):
        """`clock` (seconds, monotonic) times the fallback: when to try Redis again, how long
        rejoining lasts."""
        self.clock = clock
        self.urls = list(urls)
        self.limit, window = window_limit(rate.count, rate.period)
        self.rate_text = f"{self.limit} calls per {window:g} s"
        self.window = window + WINDOW_MARGIN
        if redis_client is None:
            # No Redis at all: this process is the only caller, at the full rate.
            self.shared, local_share = None, 1
        else:
            self.shared = SharedLimiter(redis_client, self.urls, self.limit, self.window, bound,
                                        namespace, cap=max_in_flight)
            local_share = max(1, expected_processes)
            # A Sentinel failover may lose the last grants: fall back as after a restart,
            # whichever caller in this process met it.
            on_master_moved(redis_client, self.redis_failed)
        local_limit, local_window = window_limit(rate.count / local_share, rate.period)
        self.local = LocalLimiter(len(self.urls), local_limit, local_window + WINDOW_MARGIN, bound,
                                  cap=max_in_flight)
        self.local_rate = f"{local_limit} calls per {local_window:g} s"
        self.mode = "shared" if self.shared else "local"
        self._retry_at = 0.0
        self._rejoin_until = 0.0
        self.rejoin_for = self.window + REJOIN_LAG  # seconds both limiters decide after Redis
        self._lock = threading.Lock()

    @property
    def redis_ok(self) -> bool:
        return self.mode != "local" or self.shared is None

    def acquire(self, method: str, candidates: list[int], max_delay: float = 0.0, *,
                waiter: str | None = None, background: bool = False,
                place: str = "") -> Grant | Wait:
        """Leave to call one of `candidates` (now, or after a delay up to `max_delay`).

        `waiter` names the caller across its attempts (its place in the queue for `method`);
        `background` callers let interactive ones go first.
        """
        mode = self._mode_now()
        if mode == "local":
            return self.local.acquire(method, candidates)
        try:
            if mode == "shared":
                got = self.shared.acquire(method, candidates, max_delay=max_delay, waiter=waiter,
                                          background=background, place=place)
                if isinstance(got, Grant):
                    self.local.note(got, method)
                return got
            return self._acquire_both(method, candidates, waiter, background, place)
        except REDIS_ERRORS as error:
            self.redis_failed(error)
            return self.local.acquire(method, candidates)

    def _acquire_both(self, method, candidates, waiter, background, place):
        local = self.local.acquire(method, candidates)
        if isinstance(local, Wait):
            return local
        try:
            shared = self.shared.acquire(method, [local.mirror], token=local.token, waiter=waiter,
                                         background=background, place=place)
        except BaseException:
            self.local.cancel(local, method)
            raise
        if isinstance(shared, Wait):
            self.local.cancel(local, method)
        return shared

    def confirm(self, grant: Grant, method: str, background: bool = False) -> bool:
        """A reserved grant after its delay: True to send the call; False if it was given back
        (the mirror or method is held now, or an interactive caller waits for the slot)."""
        why = self.local.confirm(grant, method)  # gives the local slot back if not ok
        if not grant.shared:
            return not why
        try:
            if why:
                self.shared.cancel(grant, method)
            else:
                why = self.shared.confirm(grant, method, background)
                if why:
                    self.local.cancel(grant, method)
        except REDIS_ERRORS as error:
            self.redis_failed(error)  # the local limiter's word stands
        return not why

    def cancel(self, grant: Grant, method: str) -> None:
        """Give back a grant that was never used (its caller stopped before sending)."""
        self.local.cancel(grant, method)
        if not grant.shared:
            return
        try:
            self.shared.cancel(grant, method)
        except REDIS_ERRORS as error:
            self.redis_failed(error)  # Redis lets the slot go at its in-flight bound

    def wait(self, waiter: str, method: str, seconds: float) -> None:
        """Sleep up to `seconds` before trying again; less when a slot of `method` frees."""
        if self.mode == "local" or self.shared is None:
            return self.local.wait(seconds)
        try:
            self.shared.wait(waiter, method, seconds)
        except REDIS_ERRORS as error:
            self.redis_failed(error)

    def leave(self, waiter: str, method: str) -> None:
        """The caller is done waiting (answered, or gave up)."""
        if self.mode == "local" or self.shared is None:
            return
        try:
            self.shared.leave(waiter, method)
        except REDIS_ERRORS as error:
            self.redis_failed(error)

    def release(self, grant: Grant, method: str, outcome: Outcome) -> None:
        self.local.release(grant, method, outcome)
        # A call granted during a fallback was handed over to Redis when it came back.
        if self.shared is None or not grant.shared and self.mode == "local":
            return
        try:
            self.shared.release(grant, method, outcome)
        except REDIS_ERRORS as error:
            self.redis_failed(error)

    def status(self):
        """(mirrors, whether the picture is the shared one)."""
        if self.shared is not None and self.mode != "local":
            try:
                return self.shared.status(), True
            except REDIS_ERRORS as error:
                self.redis_failed(error)
        return self.local.status(self.urls), False

    def _mode_now(self) -> str:
        with self._lock:
            now = self.clock()
            if self.mode == "rejoining" and now >= self._rejoin_until:
                self.mode = "shared"
                log.info("API limits: shared through Redis again")
            if self.mode != "local" or self.shared is None or now < self._retry_at:
                return self.mode
            self._retry_at = now + RETRY_INTERVAL
        # Outside the lock: a slow Redis must not hold up the other threads.
        try:
            self.shared.ping()
            for mirror, known in enumerate(self.local.handover()):
                self.shared.absorb(mirror, *known)
        except REDIS_ERRORS:
            return "local"
        with self._lock:
            if self.mode == "local":
                self.mode = "rejoining"
                self._rejoin_until = self.clock() + self.rejoin_for
                log.warning("Redis is reachable again: API limits shared again in %.1f s",
                            self.rejoin_for)
            return self.mode

    def redis_failed(self, error) -> None:
        """Redis failed someone in this process: fall back until it answers again."""
        with self._lock:
            if self.mode == "local":
                return
            self.mode = "local"
            self._retry_at = self.clock() + RETRY_INTERVAL
        # Calls Redis granted in the last window are unknown here: assume it is full.
        self.local.hold_all(self.window)
        log.warning(
            "Redis unreachable (%s): this process now calls each API mirror at most %s"
            " (stackq.api.max_rate shared by stackq.api.expected_processes) until Redis is back",
            error, self.local_rate)

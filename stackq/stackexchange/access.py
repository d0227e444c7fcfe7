"""ApiAccess: the one seam every Stack Exchange API call in the product goes through.

It spreads calls over mirrors and keeps the API's rules in memory (per process):
``backoff`` per (mirror, method), throttle blocks per mirror, last seen quota.
A later change swaps the internals for a Redis-shared limiter; the signatures stay.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter

import urllib3

from .client import ApiResponse, StackExchangeClient, method_key
from .errors import RateLimited, ThrottleViolation

__all__ = ["BACKOFF_MARGIN", "ApiAccess"]

# The API says to wait backoff seconds before the next call of the method;
# public clients treat that as inclusive, so we keep a little extra.
BACKOFF_MARGIN = 0.1


class ApiAccess:
    """Round-robin over mirrors, honouring backoff and throttle blocks. Thread-safe."""

    def __init__(
        self,
        base_urls: list[str],
        key: str | None = None,
        timeout: float = 10.0,
        max_backoff_wait: float = 30.0,
    ):
        if not base_urls:
            raise ValueError("ApiAccess needs at least one mirror URL")
        # One pool for all mirrors: connections are reused across threads/greenlets.
        self._pool = urllib3.PoolManager(num_pools=max(10, len(base_urls)), maxsize=10)
        self.clients = [
            StackExchangeClient(url, key=key, timeout=timeout, pool=self._pool) for url in base_urls
        ]
        self.max_backoff_wait = max_backoff_wait
        # A Condition, not a bare lock: waiters wake when a call finishes.
        self._cond = threading.Condition(threading.Lock())
        self._cursor = 0
        n = len(self.clients)
        # Deadlines are time.monotonic() values, immune to wall-clock jumps.
        self._not_before: list[dict[str, float]] = [{} for _ in range(n)]
        # Methods whose last answer carried backoff: while one such call is in
        # flight another must not start, or it would land inside the new backoff.
        self._backing_off: list[dict[str, int]] = [{} for _ in range(n)]
        self._in_flight: list[Counter] = [Counter() for _ in range(n)]
        self._blocked_until: list[float] = [0.0] * n
        self._quota_remaining: list[int | None] = [None] * n
        self._quota_max: list[int | None] = [None] * n

    def __repr__(self) -> str:
        return f"<ApiAccess {[c.base_url for c in self.clients]}>"

    def fetch(self, method: str, site: str | None = None, **params) -> ApiResponse:
        """Call ``method`` on a mirror that may be called now, waiting a bounded time if none is.

        Raises RateLimited when the wait would exceed ``max_backoff_wait``, and
        re-raises ThrottleViolation when no other mirror is free to fail over to.
        """
        key = method_key(method)
        deadline = time.monotonic() + self.max_backoff_wait
        tried: set[int] = set()
        throttled: ThrottleViolation | None = None
        while True:
            with self._cond:
                index, wait = self._pick(key, tried)
                if throttled is not None and (index is None or wait > 0):
                    # Fail over only to a mirror that is free right now.
                    raise throttled
                if wait > 0:
                    if time.monotonic() + wait > deadline:
                        raise RateLimited(wait)
                    # Re-check after waking: other calls may have moved the deadlines.
                    self._cond.wait(wait)
                    continue
                self._in_flight[index][key] += 1
            try:
                response = self.clients[index].call(method, site, **params)
            except ThrottleViolation as exc:
                self._finish(index, key, None, exc)
                tried.add(index)
                throttled = exc
                continue
            except BaseException:
                self._finish(index, key, None, None)  # keeps in-flight counts right
                raise
            self._finish(index, key, response, None)
            return response

    def status(self) -> list[dict]:
        """Per mirror: url, last quota seen, seconds blocked, backoff in force {method: seconds}."""
        now = time.monotonic()
        out = []
        with self._cond:
            for i, client in enumerate(self.clients):
                backoff = {
                    k: round(at - now, 3) for k, at in self._not_before[i].items() if at > now
                }
                out.append(
                    {
                        "url": client.base_url,
                        "quota_remaining": self._quota_remaining[i],
                        "quota_max": self._quota_max[i],
                        "blocked_for": round(max(0.0, self._blocked_until[i] - now), 3),
                        "backoff": backoff,
                    }
                )
        return out

    def close(self) -> None:
        """Drop pooled connections (e.g. after fork)."""
        self._pool.clear()

    # -- internals -----------------------------------------------------------

    def _pick(self, key: str, exclude: set[int]) -> tuple[int | None, float]:
        """The first free mirror in round-robin order (wait 0), else the soonest one.

        Caller holds self._cond.
        """
        now = time.monotonic()
        n = len(self.clients)
        best, best_at = None, math.inf
        for step in range(n):
            i = (self._cursor + step) % n
            if i in exclude:
                continue
            ready_at = max(self._blocked_until[i], self._not_before[i].get(key, 0.0))
            if self._in_flight[i][key] and key in self._backing_off[i]:
                # Its answer will likely set a new backoff; assume it does.
                ready_at = max(ready_at, now + self._backing_off[i][key] + BACKOFF_MARGIN)
            if ready_at <= now:
                self._cursor = (i + 1) % n
                return i, 0.0
            if ready_at < best_at:
                best, best_at = i, ready_at
        if best is None:
            return None, 0.0
        return best, best_at - now

    def _finish(
        self,
        index: int,
        key: str,
        response: ApiResponse | None,
        throttle: ThrottleViolation | None,
    ) -> None:
        now = time.monotonic()
        with self._cond:
            self._in_flight[index][key] -= 1
            if self._in_flight[index][key] <= 0:
                del self._in_flight[index][key]
            if response is not None:
                self._note_response(index, key, response, now)
            # "Violation of backoff parameter" carries no wait time, so nothing to
            # block on; only a stated retry_after blocks the whole mirror.
            if throttle is not None and throttle.retry_after is not None:
                until = now + throttle.retry_after + BACKOFF_MARGIN
                self._blocked_until[index] = max(self._blocked_until[index], until)
            self._cond.notify_all()

    def _note_response(self, index: int, key: str, response: ApiResponse, now: float):
        if response.quota_remaining is not None:
            self._quota_remaining[index] = response.quota_remaining
        if response.quota_max is not None:
            self._quota_max[index] = response.quota_max
        per_method = self._not_before[index]
        # Forget expired entries so the dict does not grow without bound.
        for k in [k for k, at in per_method.items() if at <= now]:
            del per_method[k]
        if response.backoff:
            # Counted from receipt, which is after the server started counting.
            per_method[key] = now + response.backoff + BACKOFF_MARGIN
            self._backing_off[index][key] = response.backoff
        else:
            self._backing_off[index].pop(key, None)

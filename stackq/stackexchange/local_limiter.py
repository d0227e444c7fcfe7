"""The per-process limiter: the same rules as the shared one, in memory.

It is what a process relies on while Redis is unreachable (at a conservative rate), and
all it has when stackq runs without Redis at all. It also keeps this process's own picture
up to date while Redis is fine, so a fallback starts from what the process knows.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from .policy import BACKOFF_MARGIN, STORM_BAN, STORM_FAILURES, Grant, Outcome, Wait
from .shared_limiter import MirrorStatus, new_token

__all__ = ["LocalLimiter"]


@dataclass
class _Mirror:
    log: dict[str, float] = field(default_factory=dict)  # token -> score, as in Redis
    ban_until: float = 0.0
    ban_reason: str = ""
    quota_remaining: int | None = None
    quota_max: int | None = None
    quota_reset: float = 0.0
    backoff: dict[str, float] = field(default_factory=dict)  # method -> until
    backing: dict[str, float] = field(default_factory=dict)  # method -> last back-off
    busy: dict[str, float] = field(default_factory=dict)  # method -> until
    fails: int = 0

    def ready_at(self, now, method, limit, window):
        at, why = now, ""
        holds = [(self.ban_until, "ban"), (self.backoff.get(method, 0.0), "backoff")]
        if self.quota_remaining is not None and self.quota_remaining <= 0:
            holds.append((self.quota_reset, "quota"))
        if self.busy.get(method, 0.0) > now:
            holds.append((now + self.backing.get(method, 0.0) + BACKOFF_MARGIN, "backoff"))
        self.prune(now, window)
        if len(self.log) >= limit:
            scores = sorted(self.log.values())
            holds.append((min(scores[len(scores) - limit], now) + window, "rate"))
        for until, reason in holds:
            if until > at:
                at, why = until, reason
        return at, why

    def prune(self, now, window):
        for token in [t for t, score in self.log.items() if score < now - window]:
            del self.log[token]

    def finish(self, now, token, method, outcome: Outcome):
        self.log[token] = now
        self.busy.pop(method, None)
        if outcome.answered:
            self.fails = 0
        else:
            self.fails += 1
            if self.fails >= STORM_FAILURES:
                self.ban(now + STORM_BAN, "unreachable")
                self.fails = 0
        if outcome.backoff:
            self.backoff[method] = now + outcome.backoff + BACKOFF_MARGIN
            self.backing[method] = outcome.backoff
        elif outcome.ok:
            self.backing.pop(method, None)
        if outcome.quota_remaining is not None:
            quota = outcome.quota_remaining
            if self.quota_remaining is not None and self.quota_reset > now:
                quota = min(quota, self.quota_remaining)
            self.quota_remaining = quota
            self.quota_max = outcome.quota_max or self.quota_max
            self.quota_reset = (now // 86400 + 1) * 86400
        if outcome.ban_seconds is not None:
            self.ban(now + outcome.ban_seconds + BACKOFF_MARGIN, outcome.ban_reason)

    def ban(self, until, reason):
        if until > self.ban_until:
            self.ban_until, self.ban_reason = until, reason


class LocalLimiter:
    """`limit` calls per `window` seconds per mirror, for this process only. Thread-safe."""

    def __init__(self, mirrors: int, limit: int, window: float, bound: float):
        self.limit, self.window, self.bound = limit, window, bound
        self._mirrors = [_Mirror() for _ in range(mirrors)]
        self._hold_until = 0.0
        # Held only for in-memory bookkeeping, never across I/O; cooperative under gevent.
        self._lock = threading.Lock()

    def acquire(self, method: str, candidates: list[int], token: str | None = None):
        now = time.time()
        with self._lock:
            best, best_at, best_load, best_why = None, float("inf"), 0, ""
            start = random.randrange(len(candidates))
            for i in candidates[start:] + candidates[:start]:
                mirror = self._mirrors[i]
                at, why = mirror.ready_at(now, method, self.limit, self.window)
                if self._hold_until > at:
                    at, why = self._hold_until, "rate"
                if at < best_at or (at == best_at and len(mirror.log) < best_load):
                    best, best_at, best_load, best_why = i, at, len(mirror.log), why
            if best_at > now:
                return Wait(best_at - now, best_why)
            token = token or new_token()
            self._start(best, token, method, now)
            return Grant(best, token)

    def note(self, grant: Grant, method: str) -> None:
        """Count a call the shared limiter granted, as in flight."""
        with self._lock:
            self._start(grant.mirror, grant.token, method, time.time() + grant.delay)

    def _start(self, index, token, method, now):
        mirror = self._mirrors[index]
        mirror.prune(now, self.window)  # in shared mode nothing else trims the log
        mirror.log[token] = now + self.bound
        if method in mirror.backing:
            mirror.busy[method] = now + self.bound
        if mirror.quota_remaining is not None:
            mirror.quota_remaining -= 1

    def cancel(self, grant: Grant) -> None:
        """Take back a grant that was never used."""
        with self._lock:
            self._mirrors[grant.mirror].log.pop(grant.token, None)

    def release(self, grant: Grant, method: str, outcome: Outcome) -> None:
        with self._lock:
            self._mirrors[grant.mirror].finish(time.time(), grant.token, method, outcome)

    def hold_all(self, seconds: float) -> None:
        """Allow no call on any mirror for `seconds`: as if every window were full."""
        with self._lock:
            self._hold_until = max(self._hold_until, time.time() + seconds)

    def handover(self):
        """Per mirror: (ban until, ban reason, {token: score}) of the calls still in a window."""
        now = time.time()
        with self._lock:
            return [
                (m.ban_until, m.ban_reason,
                 {t: s for t, s in m.log.items() if s >= now - self.window})
                for m in self._mirrors
            ]

    def status(self, urls) -> list[MirrorStatus]:
        now = time.time()
        out = []
        with self._lock:
            for url, m in zip(urls, self._mirrors, strict=True):
                status = MirrorStatus(
                    url,
                    calls_last_second=sum(s > now - 1 for s in m.log.values()),
                    in_flight=sum(s > now for s in m.log.values()),
                    backoff={k: until - now for k, until in m.backoff.items() if until > now},
                )
                if m.ban_until > now:
                    status.banned_for, status.ban_reason = m.ban_until - now, m.ban_reason
                if m.quota_remaining is not None and m.quota_reset > now:
                    status.quota_remaining = max(0, m.quota_remaining)
                    status.quota_max, status.quota_resets_in = m.quota_max, m.quota_reset - now
                out.append(status)
        return out

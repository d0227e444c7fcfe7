"""The per-process limiter: the same rules as the shared one, in memory.

It is what a process relies on while Redis is unreachable (at a conservative rate), and
all it has when stackq runs without Redis at all. It also keeps this process's own picture
up to date while Redis is fine, so a fallback starts from what the process knows.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field

from ..policy import (
    BACKOFF_MARGIN,
    HOLD_MEMORY,
    MAX_HOLD,
    MIN_HOLD,
    STORM_BAN,
    STORM_FAILURES,
    Grant,
    Outcome,
    Wait,
)
from .shared import MirrorStatus, new_token

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
    # method -> {token: until}: calls granted and not yet released (at most `cap`)
    flights: dict[str, dict[str, float]] = field(default_factory=dict)
    last_backoff: dict[str, float] = field(default_factory=dict)  # method -> seconds
    held: dict[str, tuple[int, float]] = field(default_factory=dict)  # method -> (streak, at)
    violations: dict[str, int] = field(default_factory=dict)
    fails: int = 0

    def flying(self, now, method):
        """The calls of `method` in flight here (those of a dead caller expire)."""
        calls = self.flights.setdefault(method, {})
        for token in [t for t, until in calls.items() if until < now]:
            del calls[token]
        return calls

    def ready_at(self, now, method, limit, window, cap):
        """(when the mirror can take a call of `method`, why not sooner); never while full."""
        at, why = now, ""
        holds = [(self.ban_until, "ban"), (self.backoff.get(method, 0.0), "backoff")]
        if self.quota_remaining is not None and self.quota_remaining <= 0:
            holds.append((self.quota_reset, "quota"))
        flying = len(self.flying(now, method))
        if flying and method in self.backing:
            holds.append((now + self.backing[method] + BACKOFF_MARGIN, "backoff"))
        self.prune(now, window)
        if len(self.log) >= limit:
            scores = sorted(self.log.values())
            holds.append((min(scores[len(scores) - limit], now) + window, "rate"))
        for until, reason in holds:
            if until > at:
                at, why = until, reason
        if flying >= cap and at <= now:
            return math.inf, "busy"
        return at, why

    def prune(self, now, window):
        for token in [t for t, score in self.log.items() if score < now - window]:
            del self.log[token]

    def finish(self, now, token, method, outcome: Outcome):
        self.log[token] = now
        self.flying(now, method).pop(token, None)
        if outcome.answered:
            self.fails = 0
        else:
            self.fails += 1
            if self.fails >= STORM_FAILURES:
                self.ban(now + STORM_BAN, "unreachable")
                self.fails = 0
        if outcome.backoff:
            self.backoff[method] = now + outcome.backoff + BACKOFF_MARGIN
            self.backing[method] = self.last_backoff[method] = outcome.backoff
        elif outcome.ok:
            self.backing.pop(method, None)
        if outcome.violation:
            self.violations[outcome.violation] = self.violations.get(outcome.violation, 0) + 1
        if outcome.violation == "backoff":
            streak, at = self.held.get(method, (0, 0.0))
            streak = streak + 1 if now - at < HOLD_MEMORY else 1
            seconds = min(max(self.last_backoff.get(method, 0.0), MIN_HOLD) * 2 ** (streak - 1),
                          MAX_HOLD)
            self.backoff[method] = now + seconds + BACKOFF_MARGIN
            self.held[method] = (streak, now)
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
    """`limit` calls per `window` seconds per mirror and at most `cap` calls of one method in
    flight on each, for this process only. Thread-safe.

    `clock` is wall time in seconds, as the shared limiter's scores are (a fallback takes over
    their log) and as the daily quota is (it renews at 00:00 UTC).
    """

    def __init__(self, mirrors: int, limit: int, window: float, bound: float, cap: int = 1,
                 clock=time.time):
        self.limit, self.window, self.bound, self.cap = limit, window, bound, cap
        self.clock = clock
        self._mirrors = [_Mirror() for _ in range(mirrors)]
        self._hold_until = 0.0
        # Held only for in-memory bookkeeping, never across I/O; cooperative under gevent.
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)

    def acquire(self, method: str, candidates: list[int], token: str | None = None):
        now = self.clock()
        with self._lock:
            best, best_at, best_load = None, math.inf, 0
            soonest, soonest_why = math.inf, ""
            start = random.randrange(len(candidates))
            for i in candidates[start:] + candidates[:start]:
                mirror = self._mirrors[i]
                at, why = mirror.ready_at(now, method, self.limit, self.window, self.cap)
                if self._hold_until > at:
                    at, why = self._hold_until, "rate"
                if at < best_at or (at == best_at and len(mirror.log) < best_load):
                    best, best_at, best_load = i, at, len(mirror.log)
                # A full mirror is free when one of its calls is answered: no time known.
                lower = now if at == math.inf else at
                if lower < soonest:
                    soonest, soonest_why = lower, why
            if best_at > now:
                return Wait(soonest - now, soonest_why)
            token = token or new_token()
            self._start(best, token, method, now)
            return Grant(best, token)

    def note(self, grant: Grant, method: str) -> None:
        """Count a call the shared limiter granted, as in flight."""
        with self._lock:
            self._start(grant.mirror, grant.token, method, self.clock() + grant.delay)

    def _start(self, index, token, method, now):
        mirror = self._mirrors[index]
        mirror.prune(now, self.window)  # in shared mode nothing else trims the log
        mirror.log[token] = now + self.bound
        mirror.flying(now, method)[token] = now + self.bound
        if mirror.quota_remaining is not None:
            mirror.quota_remaining -= 1

    def cancel(self, grant: Grant, method: str) -> None:
        """Take back a grant that was never used."""
        with self._lock:
            mirror = self._mirrors[grant.mirror]
            mirror.log.pop(grant.token, None)
            if mirror.flights.get(method, {}).pop(grant.token, None) and (
                    mirror.quota_remaining is not None):
                mirror.quota_remaining += 1
            self._freed.notify_all()

    def confirm(self, grant: Grant, method: str) -> str:
        """After a grant's delay: '' to go, else why not (the grant is given back)."""
        now = self.clock()
        with self._lock:
            mirror = self._mirrors[grant.mirror]
            why = "ban" if mirror.ban_until > now else (
                "backoff" if mirror.backoff.get(method, 0.0) > now else "")
        if why:
            self.cancel(grant, method)
        return why

    def release(self, grant: Grant, method: str, outcome: Outcome) -> None:
        with self._lock:
            self._mirrors[grant.mirror].finish(self.clock(), grant.token, method, outcome)
            self._freed.notify_all()

    def wait(self, seconds: float) -> None:
        """Sleep up to `seconds`, less if a call of this process ends (a slot may be free)."""
        with self._freed:
            self._freed.wait(max(0.0, seconds))

    def hold_all(self, seconds: float) -> None:
        """Allow no call on any mirror for `seconds`: as if every window were full."""
        with self._lock:
            self._hold_until = max(self._hold_until, self.clock() + seconds)

    def handover(self):
        """Per mirror: (ban until, ban reason, {token: score} of the calls still in a window,
        {method: {token: until}} of the calls still in flight, {method: until} of the
        back-offs in force)."""
        now = self.clock()
        with self._lock:
            return [
                (m.ban_until, m.ban_reason,
                 {t: s for t, s in m.log.items() if s >= now - self.window},
                 {method: dict(m.flying(now, method)) for method in list(m.flights)},
                 {method: until for method, until in m.backoff.items() if until > now})
                for m in self._mirrors
            ]

    def status(self, urls) -> list[MirrorStatus]:
        now = self.clock()
        out = []
        with self._lock:
            for url, m in zip(urls, self._mirrors, strict=True):
                status = MirrorStatus(
                    url,
                    calls_last_second=sum(s > now - 1 for s in m.log.values()),
                    in_flight=sum(s > now for s in m.log.values()),
                    backoff={k: until - now for k, until in m.backoff.items() if until > now},
                    violations=dict(m.violations),
                )
                if m.ban_until > now:
                    status.banned_for, status.ban_reason = m.ban_until - now, m.ban_reason
                if m.quota_remaining is not None and m.quota_reset > now:
                    status.quota_remaining = max(0, m.quota_remaining)
                    status.quota_max, status.quota_resets_in = m.quota_max, m.quota_reset - now
                out.append(status)
        return out

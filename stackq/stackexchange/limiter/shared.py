"""The limiter every process shares through Redis: one atomic script picks the mirror."""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field

from ..policy import (
    BACKOFF_MARGIN,
    HOLD_MEMORY,
    MAX_HOLD,
    MIN_HOLD,
    QUEUE_STALE,
    STORM_BAN,
    STORM_FAILURES,
    Grant,
    Outcome,
    Wait,
)
from . import lua as limiter_lua

__all__ = ["MirrorStatus", "SharedLimiter", "as_text", "mirror_id", "new_token"]


def mirror_id(url: str) -> str:
    """A short stable name for a mirror's keys (URLs hold characters keys should not)."""
    return hashlib.sha1(url.encode()).hexdigest()[:12]


def new_token() -> str:
    return uuid.uuid4().hex[:20]


@dataclass
class MirrorStatus:
    """One mirror as /status shows it; times are seconds from now."""

    url: str
    calls_last_second: int = 0
    in_flight: int = 0
    banned_for: float = 0.0
    ban_reason: str = ""
    backoff: dict[str, float] = field(default_factory=dict)
    quota_remaining: int | None = None
    quota_max: int | None = None
    quota_resets_in: float | None = None
    violations: dict[str, int] = field(default_factory=dict)  # "backoff"/"rate" -> count
    # Methods of `backoff` held because a back-off was broken (the rest: the API asked).
    held: set[str] = field(default_factory=set)
    # method -> seconds its slot stays held for a call granted longer ago than any answer
    # takes and never answered: a stopped or killed process's call, most likely.
    unanswered: dict[str, float] = field(default_factory=dict)

    @property
    def violation_count(self) -> int:
        return sum(self.violations.values())


def _text(value) -> str:
    return "" if value is None else str(value)


# A waiter blocks this long at most on its wake list before it looks again: well within
# the Redis client's reply timeout.
WAKE_POLL = 0.1


def as_text(value):
    """Redis answers bytes unless the client decodes them."""
    return value.decode() if isinstance(value, bytes) else value


class SharedLimiter:
    """Rate, in-flight calls, back-off, bans and quota of each mirror, in Redis for every
    process; callers waiting for a method queue there, interactive ones first."""

    def __init__(self, redis, urls, limit, window, bound, namespace="stackq:api", cap=1):
        self.redis = redis
        self.urls = list(urls)
        self.limit, self.window, self.bound, self.cap = limit, window, bound, cap
        self.keys = []
        # One hash tag for every key of the namespace: a script's keys must share a Redis
        # Cluster slot, and one call's queue and mirrors are used together.
        tagged = f"{{{namespace}}}"
        for url in self.urls:
            state = f"{tagged}:mirror:{mirror_id(url)}"
            self.keys.append((state, state + ":log"))
        scope = hashlib.sha1(" ".join(sorted(self.urls)).encode()).hexdigest()[:10]
        self.queue_prefix = f"{tagged}:queue:{scope}"
        self._acquire = redis.register_script(limiter_lua.ACQUIRE)
        self._confirm = redis.register_script(limiter_lua.CONFIRM)
        self._cancel = redis.register_script(limiter_lua.CANCEL)
        self._release = redis.register_script(limiter_lua.RELEASE)
        self._absorb = redis.register_script(limiter_lua.ABSORB)

    def _queue(self, method):
        return f"{self.queue_prefix}:{method}"

    def _call_keys(self, mirror, method):
        """state, log, flight set, queue: the keys one call of `method` on `mirror` touches."""
        state, log = self.keys[mirror]
        return [state, log, f"{state}:flight:{method}", self._queue(method)]

    def acquire(self, method: str, candidates: list[int], token: str | None = None,
                max_delay: float = 0.0, waiter: str | None = None, background: bool = False,
                place: str = ""):
        """A Grant on the mirror that can take the call soonest, or how long to Wait.

        A grant may come with a `delay` up to `max_delay`: a slot reserved that soon.
        `waiter` names the caller in the method's queue (one name for all its attempts).
        """
        queue = self._queue(method)
        keys = [queue, queue + ":seen", queue + ":parked"]
        for i in candidates:
            keys += self._call_keys(i, method)[:3]
        token = token or new_token()
        # Start the scan at a random candidate, so ties do not always favour the first.
        args = [method, self.limit, self.window, self.bound, token,
                random.randrange(len(candidates)), BACKOFF_MARGIN, max(0.0, max_delay),
                self.cap, waiter or token, "1" if background else "", QUEUE_STALE, place]
        answer = self._acquire(keys=keys, args=args)
        if int(answer[0]) < 0:
            return Wait(float(answer[1]), as_text(answer[2]))
        return Grant(candidates[int(answer[0])], token, shared=True, delay=float(answer[1]),
                     place=as_text(answer[2]))

    def confirm(self, grant: Grant, method: str, background: bool = False) -> str:
        """After a reserved grant's delay: '' to go, else why it was given back."""
        args = [method, grant.token, "1" if background else ""]
        why, *waiters = self._confirm(keys=self._call_keys(grant.mirror, method), args=args)
        self._wake(method, waiters)
        return as_text(why)

    def cancel(self, grant: Grant, method: str) -> None:
        """Give back a grant that was never used."""
        self._wake(method, self._cancel(keys=self._call_keys(grant.mirror, method),
                                        args=[grant.token]))

    def _wake(self, method: str, waiters) -> None:
        """Tell `waiters` of `method` that a slot may be free: each blocks on a list of its
        own. Pushed here, not in the script that freed the slot, as a script touches only
        the keys it is given (a waiter looks again after WAKE_POLL anyway)."""
        if not waiters:
            return
        pipe = self.redis.pipeline(transaction=False)
        for waiter in waiters:
            key = self._wake_key(as_text(waiter), method)
            pipe.lpush(key, "1")
            pipe.ltrim(key, 0, 0)
            pipe.pexpire(key, 2000)
        pipe.execute()

    def _wake_key(self, waiter: str, method: str) -> str:
        return f"{self._queue(method)}:wake:{waiter}"

    def wait(self, waiter: str, method: str, seconds: float) -> None:
        """Sleep up to `seconds` (at most WAKE_POLL), less if a slot of `method` frees."""
        self.redis.blpop([self._wake_key(waiter, method)],
                         timeout=max(0.01, min(seconds, WAKE_POLL)))

    def leave(self, waiter: str, method: str) -> None:
        """The caller stops waiting (answered, or gave up)."""
        queue = self._queue(method)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrem(queue, waiter)
        pipe.zrem(queue + ":seen", waiter)
        pipe.zrem(queue + ":parked", waiter)
        pipe.delete(self._wake_key(waiter, method))
        pipe.execute()

    def release(self, grant: Grant, method: str, outcome: Outcome) -> None:
        """Record that the call ended, and what its answer said about the mirror."""
        args = [grant.token, method, "1" if outcome.ok else "", "1" if outcome.answered else "",
                _text(outcome.backoff), _text(outcome.quota_remaining), _text(outcome.quota_max),
                _text(outcome.ban_seconds), outcome.ban_reason, BACKOFF_MARGIN, STORM_FAILURES,
                STORM_BAN, self.window, self.bound, self.urls[grant.mirror], outcome.violation,
                MIN_HOLD, HOLD_MEMORY, MAX_HOLD]
        self._wake(method, self._release(keys=self._call_keys(grant.mirror, method), args=args))

    def absorb(self, mirror: int, ban_until: float, ban_reason: str, entries: dict,
               flights: dict, backoffs: dict) -> None:
        """Add calls made (and bans and back-offs learned) while Redis was away to the shared
        picture; `flights`: {method: {token: until}} of this process's calls still in flight;
        `backoffs`: {method: until}, kept where Redis has none as long."""
        args = [f"{ban_until:.6f}", ban_reason, self.bound, self.window, len(backoffs)]
        for method, until in backoffs.items():
            args += [method, f"{until:.6f}"]
        for token, score in entries.items():
            args += [token, f"{score:.6f}"]
        self._absorb(keys=list(self.keys[mirror]), args=args)
        pipe = self.redis.pipeline(transaction=False)
        for method, tokens in flights.items():
            if tokens:
                key = self._call_keys(mirror, method)[2]
                pipe.zadd(key, tokens, gt=True)
                pipe.pexpire(key, int((self.bound + 1) * 1000))
        pipe.execute()

    def ping(self) -> None:
        self.redis.ping()

    def status(self) -> list[MirrorStatus]:
        seconds, micros = self.redis.time()
        now = seconds + micros / 1e6
        pipe = self.redis.pipeline(transaction=False)
        for state, log in self.keys:
            pipe.hgetall(state)
            pipe.zcount(log, now - 1, "+inf")
            pipe.zcount(log, f"({now}", "+inf")
        answers = pipe.execute()
        mirrors = [
            _describe(url, now, answers[3 * i], answers[3 * i + 1], answers[3 * i + 2])
            for i, url in enumerate(self.urls)
        ]
        for status, (state, _) in zip(mirrors, self.keys, strict=True):
            status.unanswered = self._unanswered(state, now)
        return mirrors

    def _unanswered(self, state, now):
        """{method: seconds its slot stays held} for calls in flight longer than a call can
        be (one timeout: the bound is two and a second) that no one has answered."""
        overdue = (self.bound - 1) / 2
        keys = list(self.redis.scan_iter(match=f"{state}:flight:*", count=1000))
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.zrangebyscore(key, now, "+inf", withscores=True)
        found = {}
        for key, flights in zip(keys, pipe.execute(), strict=True):
            held = [until - now for _, until in flights if now - (until - self.bound) > overdue]
            if held:
                found[as_text(key).removeprefix(f"{state}:flight:")] = max(held)
        return found

    def reset(self) -> None:
        """Forget everything about these mirrors (tests; a fresh deployment)."""
        keys = [key for pair in self.keys for key in pair]
        for pattern in [f"{state}:flight:*" for state, _ in self.keys] + [self.queue_prefix + ":*"]:
            keys += self.redis.scan_iter(match=pattern, count=1000)
        self.redis.delete(*keys)


def _describe(url, now, raw, calls, in_flight) -> MirrorStatus:
    fields = {as_text(k): as_text(v) for k, v in raw.items()}

    def left(name):
        return max(0.0, float(fields.get(name) or 0) - now)

    status = MirrorStatus(url, calls_last_second=calls, in_flight=in_flight)
    status.violations = {name.removeprefix("violations:"): int(value)
                         for name, value in fields.items() if name.startswith("violations:")}
    if left("ban_until") > 0:
        status.banned_for, status.ban_reason = left("ban_until"), fields.get("ban_reason", "")
    status.backoff = {
        name.removeprefix("backoff:"): left(name)
        for name in fields
        if name.startswith("backoff:") and left(name) > 0
    }
    status.held = {method for method in status.backoff if _is_hold(fields, method)}
    if left("quota_reset") > 0 and "quota_remaining" in fields:
        status.quota_remaining = max(0, int(fields["quota_remaining"]))
        status.quota_max = int(fields["quota_max"]) if "quota_max" in fields else None
        status.quota_resets_in = left("quota_reset")
    return status


def _is_hold(fields, method):
    """Whether the method's back-off in force is the hold a broken back-off set (RELEASE in
    limiter/lua.py: max(last back-off, MIN_HOLD) doubled per repeat, from `held_at`)."""
    held_at = fields.get(f"held_at:{method}")
    if held_at is None:
        return False
    streak = int(fields.get(f"held:{method}") or 1)
    seconds = max(float(fields.get(f"last_backoff:{method}") or 0), MIN_HOLD)
    seconds = min(seconds * 2 ** (streak - 1), MAX_HOLD)
    until = float(held_at) + seconds + BACKOFF_MARGIN
    return abs(float(fields[f"backoff:{method}"]) - until) < 0.01

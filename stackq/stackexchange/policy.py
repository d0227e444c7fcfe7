"""The API's rules as values: how long to wait, when a mirror counts as banned, what fails over.

Both limiters (shared in Redis, and the per-process fallback) apply these same rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import (
    BadUpstreamResponse,
    QuotaExhausted,
    RateLimited,
    TemporarilyUnavailable,
    ThrottleViolation,
    UpstreamTimeout,
    UpstreamUnreachable,
)

__all__ = [
    "BACKOFF_MARGIN",
    "HOLD_MEMORY",
    "KEYLESS_LAST_PAGE",
    "MAX_HOLD",
    "MIN_HOLD",
    "QUEUE_STALE",
    "STORM_BAN",
    "STORM_FAILURES",
    "THROTTLE_DEFAULT_BAN",
    "WINDOW_MARGIN",
    "Grant",
    "Outcome",
    "Wait",
    "fails_over",
    "inflight_bound",
    "next_utc_midnight",
    "outcome_of_error",
    "outcome_of_response",
    "window_limit",
]

# Without an application key the API serves no page past 25 (403 access_denied, "page above
# 25 requires access token or app key").
KEYLESS_LAST_PAGE = 25

# The API says to wait `backoff` seconds before the next call of the method;
# public clients treat that as inclusive, so we keep a little extra.
BACKOFF_MARGIN = 0.1
# A rate window is measured from one call's answer to a later call's start,
# which already brackets the mirror's own clock; this covers clock rounding.
WINDOW_MARGIN = 0.005
# A throttle that names no time: the API's own bans last "30 seconds to a few minutes".
THROTTLE_DEFAULT_BAN = 30.0
# "Violation of backoff parameter" holds that method on that mirror for max(the last
# back-off seen, MIN_HOLD) seconds, doubled on each repeat within HOLD_MEMORY, at most
# MAX_HOLD: repeated violations get an IP banned for a day (Charcoal-SE/metasmoke#622).
MIN_HOLD = 10.0
HOLD_MEMORY = 3600.0
MAX_HOLD = 3600.0
# A caller waiting for a slot that has not looked again for this long has gone.
QUEUE_STALE = 2.0
# This many connection failures or timeouts in a row ban a mirror for STORM_BAN
# seconds, so calls stop waiting on a mirror that is down.
STORM_FAILURES = 3
STORM_BAN = 15.0
# A throttle whose end falls this close to UTC midnight is the daily quota running out.
QUOTA_RESET_SLACK = 5.0


def window_limit(count: float, period: float) -> tuple[int, float]:
    """`count` calls per `period` seconds as (at most N calls, in any window of W seconds).

    25/second -> (25, 1); 2.5/second -> (2, 1), since no 1-second window may hold 3;
    0.5/second -> (1, 2).
    """
    if count >= 1:
        return math.floor(count), period
    return 1, period / count


def inflight_bound(timeout: float) -> float:
    """Seconds after its grant by which a call has surely reached the mirror or failed.

    A call counts against the rate until it is answered; this bound only matters
    when a process dies mid-call and never reports the answer.
    """
    return 2 * timeout + 1


def next_utc_midnight(now: float) -> float:
    return (math.floor(now / 86400) + 1) * 86400.0


@dataclass(frozen=True)
class Grant:
    """Leave to call mirror number `mirror`; `token` names the call in the rate log."""

    mirror: int
    token: str
    shared: bool = False
    delay: float = 0.0  # call no sooner than this many seconds from now
    place: str = ""  # the caller's place in the queue, kept if it must try again


@dataclass(frozen=True)
class Wait:
    """No mirror may be called now; the soonest one may in `seconds` (`reason` holds it)."""

    seconds: float
    reason: str  # "rate", "backoff", "ban", "quota", "busy" (max_in_flight) or "queue"

    def error(self) -> RateLimited:
        if self.reason == "quota":
            return QuotaExhausted(self.seconds)
        if self.reason in ("busy", "queue"):
            # Free when calls in flight are answered: about a second, as far as anyone knows.
            return RateLimited(max(self.seconds, 1.0))
        return RateLimited(self.seconds)


@dataclass(frozen=True)
class Outcome:
    """What one finished call teaches about its mirror."""

    ok: bool = False  # a normal answer: clears a method's back-off streak
    answered: bool = False  # the mirror answered at all (even with an error)
    backoff: float | None = None
    quota_remaining: int | None = None
    quota_max: int | None = None
    ban_seconds: float | None = None
    ban_reason: str = ""
    violation: str = ""  # "backoff" or "rate": the API says we broke its rules (a bug)


def outcome_of_response(response) -> Outcome:
    return Outcome(ok=True, answered=True, backoff=response.backoff,
                   quota_remaining=response.quota_remaining, quota_max=response.quota_max)


def outcome_of_error(exc: BaseException, now: float) -> Outcome:
    if isinstance(exc, ThrottleViolation) and exc.is_backoff_violation:
        # The method on this mirror is held; the mirror itself stays usable.
        return Outcome(answered=True, violation="backoff")
    if isinstance(exc, ThrottleViolation):
        seconds = exc.retry_after if exc.retry_after is not None else THROTTLE_DEFAULT_BAN
        if exc.retry_after is not None and abs(now + seconds - next_utc_midnight(now)) < (
            QUOTA_RESET_SLACK
        ):
            # The daily quota, used up by someone else on this IP: say so on /status.
            return Outcome(answered=True, quota_remaining=0)
        return Outcome(answered=True, ban_seconds=seconds, ban_reason="throttled",
                       violation="rate")
    if isinstance(exc, UpstreamUnreachable | UpstreamTimeout):
        return Outcome()
    # Any other answer, even an error, shows the mirror is reachable.
    return Outcome(answered=True)


def fails_over(exc: BaseException) -> bool:
    """Whether another mirror (or this one, later) may answer the same call."""
    return isinstance(exc, ThrottleViolation | UpstreamUnreachable | UpstreamTimeout
                      | TemporarilyUnavailable | BadUpstreamResponse)

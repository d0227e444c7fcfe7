"""The reserve of the daily API quota, kept for people browsing, outside the refresher's cycles.

A cycle keeps it by its plan (plan.py). Tasks (a harvest, a refresh someone asked for) and
`stackq_harvest` look before each call: once the calls left today are down to the reserve,
they stop short of it, and a task waits, pending, until the quota renews. However many tasks
are queued, a page nobody stored yet still finds the calls it needs.
"""

import math
from datetime import timedelta

from ..infra.clock import utcnow
from ..stackexchange.errors import QuotaExhausted
from ..tasks.context import TaskDeferred
from .plan import quota_from_status

# A task resumes this long after the renewal, when every mirror's count has surely renewed
# (the limiter's day ends by Redis's clock, which may run a little behind ours).
RENEWAL_MARGIN = timedelta(seconds=10)


class ReserveReached(Exception):
    """The calls left today are down to the reserve: nothing more for this caller until
    `renews_at` (naive UTC)."""

    def __init__(self, quota, reserve_calls):
        self.renews_at = quota.renews_at
        super().__init__(f"the daily API quota's reserve ({reserve_calls} of {quota.limit}"
                         f" calls) is kept for people browsing ({quota.remaining} left)")


class QuotaReserve:
    """A `BackgroundApi` budget that never spends the reserve: `take()` before each call
    raises ReserveReached once no call is left above it.

    `reserve` is a share of the daily quota (`stackq.refresh.quota_reserve`), of every
    mirror's as the refresher counts it. What the access layer knows is read at each call
    (Redis), so every process and host spending the quota keeps the same reserve.
    """

    def __init__(self, access, reserve, clock=utcnow):
        self.access = access
        self.reserve = reserve
        self.clock = clock
        self.has_key = any(client.key for client in access.clients)

    def quota(self):
        return quota_from_status(self.access.status(), self.clock(), self.has_key)

    def check(self, calls=1):
        """ReserveReached unless `calls` calls are left above the reserve."""
        quota = self.quota()
        if quota.spendable(self.reserve) < calls:
            raise ReserveReached(quota, math.ceil(self.reserve * quota.limit))

    def day_allows(self, calls):
        """Whether a whole day's quota, less the reserve, holds `calls` calls at all."""
        limit = self.quota().limit
        return calls <= limit - math.ceil(self.reserve * limit)

    def take(self):
        self.check()


def reserve_of(access, reserve):
    """The budget keeping `reserve` (a share; 0 or None: none kept, no budget)."""
    return QuotaReserve(access, reserve) if reserve else None


def wait_for_quota(error, clock=utcnow):
    """A task stopped by the quota (ReserveReached, QuotaExhausted) as a TaskDeferred: it
    waits, pending with its progress kept, and resumes when the quota renews."""
    if isinstance(error, ReserveReached):
        until, why = error.renews_at, str(error)
    elif isinstance(error, QuotaExhausted):
        until = clock() + timedelta(seconds=error.retry_after or 0)
        why = "the daily API quota is used up"
    else:
        raise TypeError(f"not a quota error: {error!r}")
    until += RENEWAL_MARGIN
    return TaskDeferred(until, f"{why}; resumes at {until:%H:%M} UTC when the quota renews")

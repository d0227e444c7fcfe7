"""What a refresh cycle's calls may spend and how long they may wait for a free slot."""

import threading
import time

from ..stackexchange import RateLimited
from ..stackexchange.access import BACKGROUND
from ..stackexchange.policy import fails_over
from .jobs import OutOfBudget

# A cycle should end before the next is due. Its calls are background ones (pages visitors
# open go first) and wait for a free slot until then: SHORTEST_WAIT to LONGEST_WAIT each.
DEFAULT_DEADLINE = 600.0
SHORTEST_WAIT, LONGEST_WAIT = 30.0, 300.0


class CycleBudget:
    """Calls a cycle may still make: the refresher's share of the quota, never the reserve."""

    def __init__(self, limit):
        self.left = limit
        self._lock = threading.Lock()

    def take(self):
        with self._lock:
            if self.left <= 0:
                raise OutOfBudget("the refresher's share of today's API quota is spent")
            self.left -= 1


class CountingApi:
    """The API seam of a background caller: counts one job's calls, spends the cycle's
    budget, and lets each call wait for a free slot until the cycle's `deadline`
    (monotonic)."""

    def __init__(self, api, budget, deadline=None):
        self.api = api
        self.budget = budget
        self.calls = 0
        self.deadline = time.monotonic() + DEFAULT_DEADLINE if deadline is None else deadline

    def fetch(self, method, site=None, **params):
        self.budget.take()
        self.calls += 1
        left = self.deadline - time.monotonic()
        params["max_wait"] = min(LONGEST_WAIT, max(SHORTEST_WAIT, left))
        params.setdefault("priority", BACKGROUND)
        return self.api.fetch(method, site, **params)


def worth_retrying(error):
    """An upstream failure another try later in the cycle may not meet (busy, throttled,
    down); not a bad parameter or a database error."""
    return isinstance(error, RateLimited) or fails_over(error)

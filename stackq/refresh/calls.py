"""What a refresh cycle's calls may spend and how long they may wait for a free slot."""

import threading
import time

from ..stackexchange import RateLimited
from ..stackexchange.background import BackgroundApi
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


def cycle_wait(deadline=None):
    """Seconds a call may wait for a free slot: until the cycle's `deadline` (monotonic;
    DEFAULT_DEADLINE from now if None), within SHORTEST_WAIT and LONGEST_WAIT."""
    deadline = time.monotonic() + DEFAULT_DEADLINE if deadline is None else deadline
    return lambda: min(LONGEST_WAIT, max(SHORTEST_WAIT, deadline - time.monotonic()))


def cycle_api(access, budget, deadline=None):
    """The API seam of one refresh job: a background caller counting the job's calls,
    spending the cycle's `budget`, each call waiting for a free slot until `deadline`."""
    return BackgroundApi(access, budget=budget, max_wait=cycle_wait(deadline))


def worth_retrying(error):
    """An upstream failure another try later in the cycle may not meet (busy, throttled,
    down); not a bad parameter or a database error."""
    return isinstance(error, RateLimited) or fails_over(error)

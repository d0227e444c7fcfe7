"""BackgroundApi: `ApiAccess` as a background caller (the refresher, harvests, tasks).

A background caller lets people browsing go first (`BACKGROUND` priority) and waits for a
free slot as long as it is told rather than fail. It counts the calls it asked of the access
layer (the answer cache may have answered some; the call making a filter counts too), may
spend a budget, and may report each
answer and how long a call under way has waited.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .access import BACKGROUND
from .client import ApiResponse
from .filters import FilterSpec

__all__ = ["WAIT_REPORT_EVERY", "BackgroundApi"]

# How often `on_wait` hears how long the call under way has waited.
WAIT_REPORT_EVERY = 0.5


class BackgroundApi:
    """Calls `access` at background priority; `calls` counts them, `quota_remaining` is the
    last quota an answer told.

    `max_wait`: seconds each call may wait for a free slot, or a function giving them at each
    call (a caller's own `max_wait` is overridden: the waiting is this object's to say).
    `budget`: an object whose `take()` is called before each call, and raises when the
    budget is spent (the call is then not made, nor counted). `on_answer(calls)` hears the
    count after each answer; `on_wait(seconds)` hears every WAIT_REPORT_EVERY seconds a call
    has not returned, which is nearly always a call waiting for its slot (rate, back-off, ban).
    """

    def __init__(self, access, *, max_wait: float | Callable[[], float], budget=None,
                 on_answer: Callable[[int], None] | None = None,
                 on_wait: Callable[[float], None] | None = None):
        self.access = access
        self.max_wait = max_wait
        self.budget = budget
        self.on_answer = on_answer
        self.on_wait = on_wait
        self.calls = 0
        self.quota_remaining = None

    @property
    def has_key(self):
        return any(client.key for client in self.access.clients)

    def fetch(self, method, site=None, **params) -> ApiResponse:
        if isinstance(params.get("filter"), FilterSpec):
            # Made through this object: the /filters/create call is counted and budgeted.
            params["filter"] = self.access.filters.string(
                params["filter"], lambda spec: self.fetch("filters/create", **spec))
        if self.budget is not None:
            self.budget.take()
        self.calls += 1
        params["max_wait"] = self.max_wait() if callable(self.max_wait) else self.max_wait
        params.setdefault("priority", BACKGROUND)  # people browsing go first
        done = threading.Event()
        if self.on_wait is not None:
            threading.Thread(target=self._report_wait, args=(done,), daemon=True,
                             name="api-wait").start()
        try:
            answer = self.access.fetch(method, site, **params)
        finally:
            done.set()
        if answer.quota_remaining is not None:
            self.quota_remaining = answer.quota_remaining
        if self.on_answer is not None:
            self.on_answer(self.calls)
        return answer

    def _report_wait(self, done):
        waited = 0.0
        while not done.wait(WAIT_REPORT_EVERY):
            waited += WAIT_REPORT_EVERY
            self.on_wait(waited)

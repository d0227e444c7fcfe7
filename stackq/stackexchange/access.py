"""ApiAccess: the one seam every Stack Exchange API call in the product goes through.

A call is answered from the answer cache when it can be; otherwise it is made once (every
identical call at that moment, in any process, waits for that one), on the mirror the
limiter says can take it soonest. Rate, back-off, bans and quota live in Redis, so every
thread, process and host sharing the Redis keeps to them together.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

import urllib3

from ..infra.flight import Flights
from ..infra.settings import Rate
from .answers import ApiResponseCache, answer_key
from .client import ApiResponse, StackExchangeClient, method_key
from .errors import ThrottleViolation, UpstreamError
from .filters import HIDING_BUILT_INS, Filters, FilterSpec
from .limiter import REDIS_ERRORS, Limiter
from .limiter.shared import MirrorStatus, new_token
from .policy import (
    BACKOFF_MARGIN,
    Outcome,
    Wait,
    fails_over,
    inflight_bound,
    outcome_of_error,
    outcome_of_response,
)

__all__ = ["BACKGROUND", "BACKOFF_MARGIN", "INTERACTIVE", "AccessStatus", "ApiAccess", "Stopped"]

log = logging.getLogger(__name__)

# A waiting call looks again at least this often (a guess of the wait can be long).
MAX_SLEEP = 1.0
INTERACTIVE, BACKGROUND = "interactive", "background"
PRIORITIES = (INTERACTIVE, BACKGROUND)
# A call waiting for its reserved slot looks this often whether the process is stopping.
STOP_POLL = 0.1


class Stopped(Exception):  # noqa: N818 (a state, as RateLimited is)
    """The process is stopping (`ApiAccess.stop`): a call that had not been sent gave up.

    Not a StackExchangeError: nothing went wrong upstream, and callers sharing the call
    (single-flight) must not take it for the API's answer.
    """


@dataclass
class AccessStatus:
    """What /status shows."""

    mirrors: list[MirrorStatus]
    shared: bool  # False: Redis is unreachable, this is one process's own picture
    limit: str  # "25 calls per 1 s per mirror"
    answers: dict | None  # hits, joined, calls; None when unknown

    @property
    def hit_rate(self) -> float | None:
        if not self.answers:
            return None
        total = sum(self.answers.values())
        return (self.answers["hits"] + self.answers["joined"]) / total if total else None


class ApiAccess:
    """Calls the API on every mirror in `base_urls`, within their limits. Thread-safe.

    With `redis` the limits, the answer cache and single-flight are shared by every process
    using that Redis; without it they hold for this process only (and nothing is cached).
    """

    def __init__(self, base_urls, key=None, timeout=10.0, *, redis=None,
                 max_rate: Rate = Rate(25, 1), max_wait=10.0, cache_ttl=600,
                 expected_processes=4, namespace="stackq:api", max_in_flight=1,
                 filters=None, clock=time.monotonic, sleep=time.sleep):
        """`filters` presets filter strings by name (`stackq.api.filters`); `clock` (seconds,
        monotonic) times each call's max_wait and the limiter's fallback; `sleep` waits out a
        reserved slot's delay (tests turn or interrupt them)."""
        if not base_urls:
            raise ValueError("ApiAccess needs at least one mirror URL")
        # One pool for all mirrors: connections are reused across threads/greenlets.
        self._pool = urllib3.PoolManager(num_pools=max(10, len(base_urls)), maxsize=10)
        self.clients = [
            StackExchangeClient(url, key=key, timeout=timeout, pool=self._pool) for url in base_urls
        ]
        self.max_wait = max_wait
        self.clock, self.sleep = clock, sleep
        self.stopping = threading.Event()  # set by stop()
        self.redis = redis  # also where callers that store answers drop cached pages
        bound = inflight_bound(timeout)
        self.limiter = Limiter(base_urls, max_rate, bound, redis_client=redis,
                               expected_processes=expected_processes, namespace=namespace,
                               max_in_flight=max_in_flight, clock=clock)
        self.flights = Flights()
        # Answers and filters do not depend on the mirror, but two deployments (or two test
        # runs) on one Redis with other mirrors must not see each other's.
        scope = hashlib.sha1(" ".join(sorted(base_urls)).encode()).hexdigest()[:10]
        self.filters = Filters(redis, f"{namespace}:filters:{scope}", filters, clock=clock)
        self.answers = None
        if redis is not None:
            # A leader that died mid-call holds its followers this long at most.
            lease = max_wait + bound
            self.answers = ApiResponseCache(redis, f"{namespace}:answers:{scope}", cache_ttl, lease,
                                       health=self.limiter)

    def __repr__(self) -> str:
        return f"<ApiAccess {[c.base_url for c in self.clients]}>"

    @property
    def has_key(self) -> bool:
        return any(client.key for client in self.clients)

    def fetch(self, method: str, site: str | None = None, *, max_age: float | None = None,
              max_wait: float | None = None, priority: str = INTERACTIVE,
              **params) -> ApiResponse:
        """The API's answer to ``method`` with ``params``.

        ``max_age``: seconds a cached answer may be old (default: the cache TTL; 0: ask the
        API). ``max_wait``: seconds to wait for a free mirror before RateLimited (default:
        ``stackq.api.max_wait``). ``priority``: ``"interactive"`` (someone is waiting for
        the page) or ``"background"`` (the refresher, harvests: they let interactive callers
        go first). ``filter``: a built-in that keeps ``backoff`` (``default``, ``withbody``),
        a filter string, or a FilterSpec (made once, see filters.py; NoFilter if the API will
        not make it). Raises the UpstreamError of the last mirror tried when none answered,
        and RateLimited (QuotaExhausted) when no mirror is free in time.
        """
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, not {priority!r}")
        chosen = params.get("filter")
        if chosen in HIDING_BUILT_INS:
            raise ValueError(f"filter={chosen} hides the API's back-offs: pass a FilterSpec")
        if isinstance(chosen, FilterSpec):
            params["filter"] = self.filters.string(chosen, lambda spec: self.fetch(
                "filters/create", max_wait=max_wait, priority=priority, **spec))
        key = answer_key(method, site, params)
        # Callers join one another only if they accept the same age (a refresher asking for
        # a fresh answer must not get a cached one) and wait at the same priority (a
        # visitor must not wait behind the refresher's place in the queue).
        local_key = f"{key}:{max_age}:{priority}"

        background = priority == BACKGROUND

        def upstream():
            return self._call(method, site, params, max_wait, background)

        if self.answers is None:
            return self.flights.run(local_key, upstream)

        def shared():
            cached = self.answers.lookup(key, max_age)
            if cached is not None:
                return cached
            group = "flight:background" if background else "flight"
            return self.answers.single_flight(key, upstream, max_age, group, self._check_stop)

        return self.flights.run(local_key, shared, on_join=lambda: self.answers.stat("joined"))

    def stop(self) -> None:
        """This process is stopping (SIGTERM): every call waiting for a slot, and every
        later one, raises Stopped at once. Calls already sent are answered as usual."""
        self.stopping.set()

    def _check_stop(self):
        if self.stopping.is_set():
            raise Stopped("stopping: the call was not made")

    def _call(self, method, site, params, max_wait, background):
        """Call the mirror that can take it soonest; fail over while time allows."""
        name = method_key(method)
        deadline = self.clock() + (self.max_wait if max_wait is None else max_wait)
        candidates = list(range(len(self.clients)))
        waiter, place, last_error = new_token(), "", None
        queued = False  # in the method's queue: a grant takes the caller out of it
        try:
            while candidates:
                self._check_stop()  # each look at the limiter is at most a second apart
                got = self.limiter.acquire(name, candidates, deadline - self.clock(),
                                           waiter=waiter, background=background, place=place)
                queued = isinstance(got, Wait)
                if queued:
                    left = deadline - self.clock()
                    if got.seconds > left or left <= 0:
                        raise last_error or got.error()
                    # Woken early when a call of the method ends: its slot may be ours.
                    self.limiter.wait(waiter, name, min(got.seconds or MAX_SLEEP, left, MAX_SLEEP))
                    continue
                place = got.place
                if got.delay > 0 and not self._await_slot(got, name, background):
                    continue  # held meanwhile, or yielded to an interactive caller
                response = self._send(got, name, method, site, params)
                if isinstance(response, ApiResponse):
                    return response
                last_error = response
                if not isinstance(response, ThrottleViolation):
                    # Only a throttled mirror is tried again (after its hold), if time allows.
                    candidates.remove(got.mirror)
            raise last_error
        finally:
            if queued:
                self.limiter.leave(waiter, name)

    def _await_slot(self, grant, name, background):
        """Sleep until the slot reserved for this call, then confirm it: True to send.

        Left any other way (stop(), Ctrl-C, SystemExit, a killed greenlet), the slot is
        given back: else it stays held until the in-flight bound, blocking every caller of
        the method."""
        try:
            end = self.clock() + grant.delay
            while (left := end - self.clock()) > 0:
                self._check_stop()
                self.sleep(min(left, STOP_POLL))
            self._check_stop()
            return self.limiter.confirm(grant, name, background)
        except BaseException:
            self.limiter.cancel(grant, name)
            raise

    def _send(self, grant, name, method, site, params):
        """One call on the granted mirror: its answer, or the error to fail over on."""
        try:
            response = self.clients[grant.mirror].call(method, site, **params)
        except UpstreamError as exc:
            self.limiter.release(grant, name, outcome_of_error(exc, time.time()))
            if isinstance(exc, ThrottleViolation):
                log.warning("%s: %s (a call of %s broke the API's limits; the mirror or the"
                            " method is held, calls go elsewhere)", exc.mirror, exc, name)
            if not fails_over(exc):
                raise
            return exc
        except (KeyboardInterrupt, SystemExit):
            # The process ends with the answer unread, back-off and all: the slot stays
            # held until the in-flight bound, as a killed process's does.
            raise
        except BaseException:
            self.limiter.release(grant, name, Outcome(answered=True))
            raise
        self.limiter.release(grant, name, outcome_of_response(response))
        return response

    def status(self) -> AccessStatus:
        mirrors, shared = self.limiter.status()
        answers = None
        if self.answers is not None and shared:
            try:
                answers = self.answers.stats()
            except REDIS_ERRORS:
                answers = None
        limit = f"{self.limiter.rate_text} per mirror"
        if not shared:
            limit = f"{self.limiter.local_rate} per mirror in this process (Redis unreachable)"
        return AccessStatus(mirrors, shared, limit, answers)

    def reset(self) -> None:
        """Forget limits, bans, quota, filters made and cached answers of these mirrors (tests)."""
        if self.limiter.shared is not None:
            self.limiter.shared.reset()
        self.filters.forget()
        if self.answers is not None:
            self.answers.reset()

    def close(self) -> None:
        """Drop pooled connections (e.g. after fork)."""
        self._pool.clear()

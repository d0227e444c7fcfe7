"""Filters that keep every back-off in sight: made once with /filters/create, kept in Redis.

A filter removes every wrapper field it does not name, `backoff` too, while the API still
enforces the back-off it did not show (only the error_* fields survive any filter). So every
call stackq makes uses a filter that names `.backoff` and `.quota_remaining`: the built-ins
`default` and `withbody` do; `total` and `none` do not, and ApiAccess refuses them. A call
that needs other fields passes a `FilterSpec` as its `filter`: ApiAccess makes the filter
once (an ordinary API call, limited and judged like any other), keeps its string in Redis
for every process and host, and reuses it; `stackq.api.filters` may preset it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ApiError, StackExchangeError, TemporarilyUnavailable, ThrottleViolation
from .limiter import REDIS_ERRORS

__all__ = ["BODIES", "HIDING_BUILT_INS", "SPECS", "TOTAL", "WRAPPER_FIELDS", "FilterSpec",
           "Filters", "NoFilter"]

log = logging.getLogger(__name__)

# The wrapper fields the client reads, besides `items`: every filter stackq makes keeps them.
WRAPPER_FIELDS = (".backoff", ".quota_remaining", ".quota_max", ".has_more")
# Built-in filters that drop `.backoff`: an answer through them can hide a back-off.
HIDING_BUILT_INS = ("none", "total")
# After the API refused to make a filter, this process asks again no sooner than this.
RETRY_REFUSED = 600.0


@dataclass(frozen=True)
class FilterSpec:
    """What /filters/create is asked for; `name` is its key in `stackq.api.filters`."""

    name: str
    base: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    unsafe: bool = False

    def params(self) -> dict:
        return {"base": self.base, "include": ";".join(self.include) or None,
                "exclude": ";".join(self.exclude) or None, "unsafe": self.unsafe}

    @property
    def key(self) -> str:
        """Names the spec in Redis: two specs asking the same share their filter."""
        text = "|".join([self.base, ";".join(sorted(self.include)),
                         ";".join(sorted(self.exclude)), str(self.unsafe)])
        return hashlib.sha1(text.encode()).hexdigest()[:16]


# Every call that fetches questions or answers asks for their bodies (the archive): the
# built-in `withbody` is `default` plus `*.body`, so it keeps `.backoff` and
# `.quota_remaining` and costs no /filters/create call. (A filter needing more fields is
# one FilterSpec line here, as TOTAL.)
BODIES = "withbody"
# A count and nothing else but what the client reads.
TOTAL = FilterSpec("total", "total", WRAPPER_FIELDS)
SPECS = {spec.name: spec for spec in (TOTAL,)}


class NoFilter(StackExchangeError):
    """The API will not make a filter (it refused, or answered no string)."""


class Filters:
    """The filter string of each spec: preset, known to this process, kept in Redis, or made.

    `presets` maps spec names to strings; `prefix` is the Redis key prefix (it names the
    mirrors: a filter string is the API's, good on each of its mirrors and for ever).
    """

    def __init__(self, redis, prefix: str, presets: dict | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.redis, self.prefix, self.clock = redis, prefix, clock
        self.presets = dict(presets or {})
        self._known, self._refused = {}, {}

    def string(self, spec: FilterSpec, make: Callable[[dict], object]) -> str:
        """The `filter=` value of `spec`; `make(params)` calls /filters/create when needed.

        Raises NoFilter when the API refuses to make it (counting goes another way then);
        a call that fails any other way (throttled, unreachable, no slot) raises as it is.
        """
        if spec.name in self.presets:
            return self.presets[spec.name]
        if spec.key in self._known:
            return self._known[spec.key]
        if self.clock() < self._refused.get(spec.key, float("-inf")):
            raise NoFilter(f"the API refused to make the {spec.name} filter a moment ago")
        string = self._stored(spec) or self._make(spec, make)
        self._known[spec.key] = string
        return string

    def forget(self) -> None:
        """Forget every filter made (tests): in this process and in Redis."""
        self._known.clear()
        self._refused.clear()
        try:
            keys = list(self.redis.scan_iter(f"{self.prefix}:*")) if self.redis else []
            if keys:
                self.redis.delete(*keys)
        except REDIS_ERRORS:
            pass

    def _stored(self, spec):
        if self.redis is None:
            return None
        try:
            value = self.redis.get(f"{self.prefix}:{spec.key}")
        except REDIS_ERRORS:
            return None  # made again: one call, and the string is the same
        return value.decode() if isinstance(value, bytes) else value

    def _make(self, spec, make):
        try:
            answer = make(spec.params())
        except (ThrottleViolation, TemporarilyUnavailable):
            raise
        except ApiError as exc:
            self._refused[spec.key] = self.clock() + RETRY_REFUSED
            raise NoFilter(f"the API refused to make the {spec.name} filter: {exc}") from exc
        item = answer.items[0] if answer.items else None
        made = item.get("filter") if isinstance(item, dict) else None
        if not isinstance(made, str) or not made:
            self._refused[spec.key] = self.clock() + RETRY_REFUSED
            raise NoFilter(f"/filters/create answered no {spec.name} filter")
        log.info("made the %s filter: %s (preset it with stackq.api.filters = %s=%s)",
                 spec.name, made, spec.name, made)
        if self.redis is not None:
            try:
                self.redis.set(f"{self.prefix}:{spec.key}", made)
            except REDIS_ERRORS:
                pass
        return made

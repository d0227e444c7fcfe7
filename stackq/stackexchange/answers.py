"""Raw API answers reused for `stackq.api.cache_ttl` seconds, and identical calls made once.

Two layers of single-flight (`stackq.infra.flight`): threads (greenlets) of one process join one
`Flights` call; one caller per process then meets the others in Redis, where the first takes the
flight lock and the rest wait for its published answer (or error).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
import zlib

from ..infra.flight import poll
from .client import encode_params, response_from_body
from .errors import (
    ApiError,
    BadUpstreamResponse,
    QuotaExhausted,
    RateLimited,
    StackExchangeError,
    UpstreamTimeout,
    UpstreamUnreachable,
    api_error_from,
)
from .limiter import REDIS_ERRORS
from .limiter.shared import as_text

__all__ = ["ApiResponseCache", "answer_key"]

# Hit counts of a deployment whose mirrors changed are dropped this long after their last use.
STATS_TTL = 7 * 86400
# How long a flight's answer waits for the callers that joined it.
RESULT_TTL_MS = 10_000
# Errors a follower can be handed as they are; any other failure lets it try itself.
_SHARED_ERRORS = {cls.__name__: cls for cls in (
    UpstreamTimeout, UpstreamUnreachable, BadUpstreamResponse, RateLimited, QuotaExhausted)}


def answer_key(method: str, site: str | None, params: dict) -> str:
    """The same for every spelling of one call: params sorted, values encoded as sent."""
    pairs = sorted(encode_params({**params, "site": site}))
    text = json.dumps([method.strip("/"), pairs], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def pack_answer(response) -> bytes:
    # A back-off belongs to the call that got it, not to the answer reused later.
    body = {k: v for k, v in response.raw.items() if k != "backoff"}
    record = {"at": time.time(), "mirror": response.mirror, "method": response.method,
              "body": body}
    return zlib.compress(json.dumps(record, separators=(",", ":")).encode())


def unpack(data: bytes) -> dict | None:
    """A stored record, or None for one that is not ours to read (treated as missing)."""
    try:
        record = json.loads(zlib.decompress(data))
    except (zlib.error, ValueError):
        return None
    return record if isinstance(record, dict) else None


def pack_error(exc: StackExchangeError) -> bytes | None:
    where = {"mirror": getattr(exc, "mirror", None), "method": getattr(exc, "method", None)}
    if isinstance(exc, ApiError):
        record = {"api": {"error_id": exc.error_id, "error_name": exc.error_name,
                          "error_message": exc.error_message}, "status": exc.status, **where}
    elif type(exc).__name__ in _SHARED_ERRORS:
        record = {"kind": type(exc).__name__, "message": str(exc),
                  "retry_after": getattr(exc, "retry_after", None),
                  "status": getattr(exc, "status", None), **where}
    else:
        return None
    return zlib.compress(json.dumps({"error": record}).encode())


def raise_error(record: dict):
    where = {"mirror": record.get("mirror"), "method": record.get("method")}
    if "api" in record:
        raise api_error_from(record["api"], record.get("status"), **where)
    cls = _SHARED_ERRORS[record["kind"]]
    if issubclass(cls, RateLimited):
        raise cls(record["retry_after"])
    if cls is BadUpstreamResponse:
        raise cls(record["message"], record.get("status"), **where)
    raise cls(record["message"], **where)


class ApiResponseCache:
    """Answers in Redis under `namespace`; every Redis failure just means "not cached".

    `health` (the limiter) says whether Redis is worth asking, and hears of its failures.
    """

    def __init__(self, redis, namespace, ttl, lease, health):
        self.redis, self.ttl, self.lease = redis, ttl, lease
        self.prefix = namespace
        self.health = health

    def stat(self, name, amount=1):
        if not self.health.redis_ok:
            return
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hincrby(self.prefix + ":stats", name, amount)
            pipe.expire(self.prefix + ":stats", STATS_TTL)
            pipe.execute()
        except REDIS_ERRORS as error:
            self.health.redis_failed(error)

    def stats(self) -> dict:
        raw = self.redis.hgetall(self.prefix + ":stats")
        counts = {as_text(k): int(v) for k, v in raw.items()}
        return {name: counts.get(name, 0) for name in ("hits", "joined", "calls")}

    def lookup(self, key, max_age=None):
        """The cached response, or None."""
        if self.ttl <= 0 or max_age == 0 or not self.health.redis_ok:
            return None
        try:
            data = self.redis.get(f"{self.prefix}:answer:{key}")
        except REDIS_ERRORS as error:
            self.health.redis_failed(error)
            return None
        record = unpack(data) if data is not None else None
        if record is None or max_age is not None and time.time() - record["at"] > max_age:
            return None
        self.stat("hits")
        return response_from_body(record["body"], record["mirror"], record["method"])

    def single_flight(self, key, call, max_age=None, group="flight", check_stop=None):
        """`call()` once across processes: the first caller runs it, the others get its answer.

        A caller joining a call in flight takes its answer whatever `max_age`: that answer
        is at most one call's duration older than the caller's question. Callers join only
        their own `group`'s flights (a visitor must not wait behind the refresher's queue).
        `check_stop()`, called while following, raises to stop waiting for the leader.
        """
        flight_key = f"{self.prefix}:{group}:{key}"
        while True:
            token = uuid.uuid4().hex
            if not self.health.redis_ok:
                return self._lead(key, None, token, call)
            try:
                leader = self.redis.set(flight_key, token, nx=True, px=int(self.lease * 1000))
            except REDIS_ERRORS as error:
                self.health.redis_failed(error)
                return self._lead(key, None, token, call)
            if leader:
                return self._lead(key, flight_key, token, call)
            record = self._follow(flight_key, check_stop)
            if record is not None:
                self.stat("joined")
                if "error" in record:
                    raise_error(record["error"])
                return response_from_body(record["body"], record["mirror"], record["method"])
            # The leader gave up without an answer to share: maybe it cached one; else lead.
            cached = self.lookup(key, max_age)
            if cached is not None:
                return cached

    def _lead(self, key, flight_key, token, call):
        self.stat("calls")
        try:
            response = call()
        except StackExchangeError as exc:
            self._publish(key, flight_key, token, pack_error(exc), cache=False)
            raise
        except BaseException:
            self._publish(key, flight_key, token, None, cache=False)
            raise
        self._publish(key, flight_key, token, pack_answer(response), cache=True)
        return response

    def _publish(self, key, flight_key, token, data, cache):
        if flight_key is None:
            return
        try:
            pipe = self.redis.pipeline(transaction=False)
            if data is not None:
                pipe.set(f"{self.prefix}:result:{token}", data, px=RESULT_TTL_MS)
            if cache and self.ttl > 0:
                pipe.set(f"{self.prefix}:answer:{key}", data, ex=self.ttl)
            pipe.delete(flight_key)
            pipe.execute()
        except REDIS_ERRORS as error:
            self.health.redis_failed(error)

    def _follow(self, flight_key, check_stop=None):
        """The leader's record once it is published, or None if the leader left without one."""
        def look():
            if check_stop is not None:
                check_stop()
            pipe = self.redis.pipeline(transaction=False)
            pipe.get(flight_key)
            pipe.get(f"{self.prefix}:result:{token}")
            token_now, data = pipe.execute()
            if data is not None:
                return True, unpack(data)
            return as_text(token_now) != token, None  # a new leader, or none: stop

        try:
            token = as_text(self.redis.get(flight_key))
            return poll(look) if token is not None else None
        except REDIS_ERRORS:
            return None

    def reset(self) -> None:
        """Drop every cached answer and count under this namespace (tests)."""
        keys = list(self.redis.scan_iter(match=self.prefix + ":*", count=1000))
        for start in range(0, len(keys), 500):
            self.redis.delete(*keys[start:start + 500])

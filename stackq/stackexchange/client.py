"""A thin client for one Stack Exchange API mirror (v2.3), over urllib3."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import urllib3
from urllib3.exceptions import (
    DecodeError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
)
from urllib3.exceptions import (
    TimeoutError as Urllib3Timeout,
)

from .errors import (
    BadUpstreamResponse,
    UpstreamTimeout,
    UpstreamUnreachable,
    api_error_from,
)
from .items import INT_MAX
from .storable import storable

__all__ = [
    "ApiResponse",
    "StackExchangeClient",
    "encode_params",
    "method_key",
    "response_from_body",
]

_IDS_SEGMENT = re.compile(r"^\d+(?:;\d+)*;?$")


def method_key(method: str) -> str:
    """The name backoff is tracked under: ``questions/1;2/answers`` -> ``questions/{ids}/answers``.

    Backoff applies per method, not per URL, so the ids must not split it.
    """
    parts = [p for p in method.strip("/").split("/") if p]
    # /me/... is the same method as /users/{ids}/... for backoff purposes.
    if parts and parts[0] == "me":
        parts = ["users", "{ids}", *parts[1:]]
    return "/".join("{ids}" if _IDS_SEGMENT.match(p) else p for p in parts)


def _encode_value(value) -> str:
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ";".join(_encode_value(v) for v in value)
    return str(value)


def encode_params(params: dict) -> list[tuple[str, str]]:
    """Query pairs as the API wants them: None dropped, bools lower-case, lists ``;``-joined."""
    return [(k, _encode_value(v)) for k, v in params.items() if v is not None]


@dataclass(frozen=True)
class ApiResponse:
    """One successful answer: the common wrapper fields, plus where it came from."""

    items: list[dict]
    has_more: bool
    quota_max: int | None
    quota_remaining: int | None
    backoff: int | None
    total: int | None
    raw: dict = field(repr=False)
    mirror: str = ""
    method: str = ""

    @property
    def method_key(self) -> str:
        return method_key(self.method)


def _opt_int(value) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


# A back-off is obeyed as sent, but past this (68 years: never, in effect) it is held here,
# where the limiters' clock arithmetic still works: 1e400 overflowed a float.
MAX_BACKOFF = INT_MAX


def _total(value) -> int | None:
    """A count of matches, held within what a column holds (PostgreSQL's integer): a larger
    one failed the search storing it."""
    count = _opt_int(value)
    return None if count is None else min(max(count, 0), INT_MAX)


def _backoff(value) -> int | None:
    if isinstance(value, float) and value > MAX_BACKOFF:  # inf included: int() refuses it
        return MAX_BACKOFF
    seconds = _opt_int(value)
    return None if seconds is None else min(seconds, MAX_BACKOFF)


def _sniff_decompress(data: bytes) -> bytes:
    """Undo compression urllib3 did not, i.e. a body compressed without a Content-Encoding.

    JSON never starts with these bytes, so sniffing is safe.
    """
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:1] == b"\x78":  # zlib-wrapped deflate
        try:
            return zlib.decompress(data)
        except zlib.error:
            return data
    return data


class StackExchangeClient:
    """Calls one mirror (``base_url`` such as ``https://api.stackexchange.com/2.3``).

    No retries and no throttling here: ApiAccess decides what to do next.
    """

    def __init__(
        self,
        base_url: str,
        key: str | None = None,
        timeout: float = 10.0,
        pool: urllib3.PoolManager | None = None,
        user_agent: str = "stackq/0.1",
    ):
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.pool = pool if pool is not None else urllib3.PoolManager()
        self.user_agent = user_agent

    def __repr__(self) -> str:
        return f"<StackExchangeClient {self.base_url}>"

    def url_for(self, method: str, site: str | None = None, **params) -> str:
        """The full GET URL of a call (the key included when configured)."""
        if site is not None:
            params["site"] = site
        if self.key:
            params["key"] = self.key
        # Tags such as "c#" must be quoted in the path; ';' separates ids.
        path = quote(method.strip("/"), safe="/;")
        query = urlencode(encode_params(params))
        return f"{self.base_url}/{path}" + (f"?{query}" if query else "")

    def call(self, method: str, site: str | None = None, **params) -> ApiResponse:
        """GET ``method`` and return its ApiResponse, or raise an UpstreamError subclass."""
        url = self.url_for(method, site, **params)
        where = {"mirror": self.base_url, "method": method}
        try:
            resp = self.pool.request(
                "GET",
                url,
                headers={
                    "Accept-Encoding": "gzip, deflate",
                    "Accept": "application/json",
                    "User-Agent": self.user_agent,
                },
                timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
                retries=False,
                redirect=False,
                preload_content=True,
                decode_content=True,
            )
        # NewConnectionError subclasses ConnectTimeoutError, so it goes first.
        except NewConnectionError as exc:
            raise UpstreamUnreachable(f"Cannot connect to {self.base_url}: {exc}", **where) from exc
        except Urllib3Timeout as exc:
            raise UpstreamTimeout(
                f"{self.base_url} did not answer within {self.timeout:g} seconds",
                **where,
            ) from exc
        except DecodeError as exc:
            raise BadUpstreamResponse(
                f"{self.base_url} sent a body that could not be decompressed", **where
            ) from exc
        except ProtocolError as exc:
            raise UpstreamUnreachable(
                f"Connection to {self.base_url} failed: {exc}", **where
            ) from exc
        except HTTPError as exc:
            raise UpstreamUnreachable(f"Request to {self.base_url} failed: {exc}", **where) from exc
        return self._parse(resp.status, resp.data, method)

    def _parse(self, status: int, data: bytes, method: str) -> ApiResponse:
        where = {"mirror": self.base_url, "method": method}
        try:
            body = json.loads(_sniff_decompress(data).decode("utf-8"))
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as exc:
            raise BadUpstreamResponse(
                f"{self.base_url} sent an unreadable answer (HTTP {status})",
                status,
                **where,
            ) from exc
        if not isinstance(body, dict):
            raise BadUpstreamResponse(
                f"{self.base_url} sent JSON that is not an object (HTTP {status})",
                status,
                **where,
            )
        # Error objects come with HTTP 400 (sometimes 500, or 200 for JSONP).
        if "error_id" in body:
            raise api_error_from(body, status, **where)
        if not 200 <= status < 300:
            raise BadUpstreamResponse(
                f"{self.base_url} answered HTTP {status} without an error object",
                status,
                **where,
            )
        return response_from_body(body, self.base_url, method)


def response_from_body(body: dict, mirror: str, method: str) -> ApiResponse:
    """The ApiResponse of a decoded answer object (fresh from a mirror, or from the cache)."""
    items = body.get("items")
    if not isinstance(items, list):
        # A count (the total filter) carries no items at all.
        items = []
    return ApiResponse(
        items=storable(items),
        has_more=bool(body.get("has_more", False)),
        quota_max=_opt_int(body.get("quota_max")),
        quota_remaining=_opt_int(body.get("quota_remaining")),
        backoff=_backoff(body.get("backoff")),
        total=_total(body.get("total")),
        raw=body,
        mirror=mirror,
        method=method,
    )

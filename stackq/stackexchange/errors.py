"""Typed exceptions for the Stack Exchange API client.

Views map these to pages, so every message is meant to be shown to a person.
"""

from __future__ import annotations

import re

__all__ = [
    "ERROR_IDS",
    "AccessDenied",
    "ApiError",
    "BadParameter",
    "BadUpstreamResponse",
    "QuotaExhausted",
    "RateLimited",
    "StackExchangeError",
    "TemporarilyUnavailable",
    "ThrottleViolation",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnreachable",
    "api_error_from",
]


class StackExchangeError(Exception):
    """Base class of everything this package raises."""


class UpstreamError(StackExchangeError):
    """A call that failed on the way to or at the API (the app answers 502/503)."""

    def __init__(self, message: str, *, mirror: str | None = None, method: str | None = None):
        super().__init__(message)
        self.message = message
        self.mirror = mirror
        self.method = method


class ApiError(UpstreamError):
    """An error object (``error_id``/``error_name``/``error_message``) sent by the API."""

    def __init__(
        self,
        error_id: int,
        error_name: str,
        error_message: str,
        status: int | None = None,
        *,
        mirror: str | None = None,
        method: str | None = None,
    ):
        self.error_id = error_id
        self.error_name = error_name
        self.error_message = error_message
        # HTTP status of the answer; the API sends 400 for almost every error.
        self.status = status
        text = f"Stack Exchange API error {error_id} ({error_name})"
        if error_message:
            text += f": {error_message}"
        super().__init__(text, mirror=mirror, method=method)


class BadParameter(ApiError):
    """400 bad_parameter: an invalid parameter, key or site."""


class AccessDenied(ApiError):
    """403 access_denied, e.g. "page above 25 requires access token or app key"."""


# Quota exhaustion says "more requests available in N seconds"; a backoff
# violation says nothing, so retry_after stays None then.
_RETRY_AFTER = re.compile(r"available in\s+(\d+(?:\.\d+)?)\s*seconds?", re.IGNORECASE)


class ThrottleViolation(ApiError):
    """502 throttle_violation: over the rate, the daily quota or a backoff."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        match = _RETRY_AFTER.search(self.error_message or "")
        self.retry_after: float | None = float(match.group(1)) if match else None

    @property
    def is_backoff_violation(self) -> bool:
        """True for "Violation of backoff parameter": a call made during the back-off."""
        return "backoff" in (self.error_message or "").lower()


class TemporarilyUnavailable(ApiError):
    """503 temporarily_unavailable, and 500 internal_error: worth trying later."""


class UpstreamTimeout(UpstreamError):
    """The API did not answer within the client timeout."""


class UpstreamUnreachable(UpstreamError):
    """No connection: refused, reset, or the name did not resolve."""


class BadUpstreamResponse(UpstreamError):
    """An answer we cannot use: not JSON, undecodable, or HTTP 5xx without an error object."""

    def __init__(self, message: str, status: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.status = status


class RateLimited(StackExchangeError):
    """Refused locally: the next allowed call is too far away to wait for.

    Not an UpstreamError on purpose: nothing was sent, the API is fine.
    """

    def __init__(self, retry_after: float, message: str | None = None):
        self.retry_after = max(0.0, float(retry_after))
        if message is None:
            message = (
                "Too many requests to Stack Exchange; "
                f"the next slot is free in {self.retry_after:.1f} seconds"
            )
        super().__init__(message)


class QuotaExhausted(RateLimited):
    """Refused locally: every mirror has used its daily quota; it renews at 00:00 UTC."""

    def __init__(self, retry_after: float):
        seconds = max(0.0, float(retry_after))
        hours, minutes = divmod(round(seconds / 60), 60)
        super().__init__(
            seconds,
            "The daily Stack Exchange API quota is used up on every mirror; it renews at"
            f" 00:00 UTC, in {hours} h {minutes:02d} min",
        )


# Every documented error id (api.stackexchange.com/docs/error-handling) and the
# class it becomes; unknown ids fall back to plain ApiError.
ERROR_IDS: dict[int, tuple[str, type[ApiError]]] = {
    400: ("bad_parameter", BadParameter),
    401: ("access_token_required", ApiError),
    402: ("invalid_access_token", ApiError),
    403: ("access_denied", AccessDenied),
    404: ("no_method", ApiError),
    405: ("key_required", ApiError),
    406: ("access_token_compromised", ApiError),
    407: ("write_failed", ApiError),
    409: ("duplicate_request", ApiError),
    500: ("internal_error", TemporarilyUnavailable),
    502: ("throttle_violation", ThrottleViolation),
    503: ("temporarily_unavailable", TemporarilyUnavailable),
}
_BY_NAME = {name: cls for name, cls in ERROR_IDS.values()}


def api_error_from(
    body: dict,
    status: int | None = None,
    *,
    mirror: str | None = None,
    method: str | None = None,
) -> ApiError:
    """Build the ApiError subclass for an API error object."""
    raw_id = body.get("error_id")
    try:
        error_id = int(raw_id)
    except (TypeError, ValueError):
        error_id = -1
    name = str(body.get("error_name") or "")
    message = str(body.get("error_message") or "")
    # Prefer the numeric id; the name is the fallback for an odd id.
    known = ERROR_IDS.get(error_id)
    cls = known[1] if known else _BY_NAME.get(name, ApiError)
    if not name and known:
        name = known[0]
    return cls(error_id, name or "unknown_error", message, status, mirror=mirror, method=method)

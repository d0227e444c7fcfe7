"""The API's error objects and the local refusals, as typed exceptions."""

from __future__ import annotations

import pytest

from stackq.stackexchange.errors import (
    AccessDenied,
    ApiError,
    BadParameter,
    RateLimited,
    StackExchangeError,
    TemporarilyUnavailable,
    ThrottleViolation,
    UpstreamError,
    api_error_from,
)


@pytest.mark.parametrize(
    ("error_id", "name", "cls"),
    [
        (400, "bad_parameter", BadParameter),
        (401, "access_token_required", ApiError),
        (403, "access_denied", AccessDenied),
        (404, "no_method", ApiError),
        (500, "internal_error", TemporarilyUnavailable),
        (502, "throttle_violation", ThrottleViolation),
        (503, "temporarily_unavailable", TemporarilyUnavailable),
        (999, "brand_new_error", ApiError),
    ],
)
def test_api_error_from_maps_ids_to_classes(error_id, name, cls):
    exc = api_error_from({"error_id": error_id, "error_name": name, "error_message": "m"}, 400)
    assert type(exc) is cls
    assert (exc.error_id, exc.error_name, exc.error_message, exc.status) == (
        error_id,
        name,
        "m",
        400,
    )
    assert isinstance(exc, UpstreamError)
    assert name in str(exc) and "m" in str(exc)


def test_throttle_retry_after_parsed_from_message():
    quota = api_error_from(
        {
            "error_id": 502,
            "error_message": "too many requests from this IP, "
            "more requests available in 17524 seconds",
            "error_name": "throttle_violation",
        }
    )
    assert isinstance(quota, ThrottleViolation) and quota.retry_after == 17524.0
    backoff = api_error_from(
        {
            "error_id": 502,
            "error_message": "Violation of backoff parameter",
            "error_name": "throttle_violation",
        }
    )
    assert backoff.retry_after is None


def test_rate_limited_is_local_not_upstream():
    exc = RateLimited(12.34)
    assert isinstance(exc, StackExchangeError) and not isinstance(exc, UpstreamError)
    assert exc.retry_after == 12.34
    assert "12.3 seconds" in str(exc)

"""stackq's own Stack Exchange API client: every API call goes through `ApiAccess`."""

from .access import ApiAccess
from .client import ApiResponse, StackExchangeClient
from .errors import (
    AccessDenied,
    ApiError,
    BadParameter,
    BadUpstreamResponse,
    RateLimited,
    StackExchangeError,
    TemporarilyUnavailable,
    ThrottleViolation,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from .items import Owner, Question, parse_question

__all__ = [
    "AccessDenied",
    "ApiAccess",
    "ApiError",
    "ApiResponse",
    "BadParameter",
    "BadUpstreamResponse",
    "Owner",
    "Question",
    "RateLimited",
    "StackExchangeClient",
    "StackExchangeError",
    "TemporarilyUnavailable",
    "ThrottleViolation",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnreachable",
    "api_access_from_settings",
    "parse_question",
]


def api_access_from_settings(settings):
    """The process's access object, built from typed `Settings`."""
    return ApiAccess(
        list(settings.api_urls), key=settings.api_key or None, timeout=settings.api_timeout
    )


def includeme(config):
    settings = config.get_settings()["stackq.settings"]
    access = api_access_from_settings(settings)
    config.registry["stackq.api"] = access
    config.add_request_method(lambda request: request.registry["stackq.api"], "api", reify=True)

"""stackq's own Stack Exchange API client: every API call goes through `ApiAccess`.

From any script, thread or process: ``stackq.stackexchange.fetch(method, site=..., **params)``
(settings from ``STACKQ_*`` or ``configure("development.ini")``; no Pyramid needed).
"""

from ..infra.registry import API, REDIS, settings_of
from .access import AccessStatus, ApiAccess
from .client import ApiResponse, StackExchangeClient
from .errors import (
    AccessDenied,
    ApiError,
    BadParameter,
    BadUpstreamResponse,
    QuotaExhausted,
    RateLimited,
    StackExchangeError,
    TemporarilyUnavailable,
    ThrottleViolation,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from .items import Owner, Question, parse_question
from .standalone import api_access_from_settings, configure, default_access, fetch

__all__ = [
    "AccessDenied",
    "AccessStatus",
    "ApiAccess",
    "ApiError",
    "ApiResponse",
    "BadParameter",
    "BadUpstreamResponse",
    "Owner",
    "Question",
    "QuotaExhausted",
    "RateLimited",
    "StackExchangeClient",
    "StackExchangeError",
    "TemporarilyUnavailable",
    "ThrottleViolation",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnreachable",
    "api_access_from_settings",
    "configure",
    "default_access",
    "fetch",
    "parse_question",
]


def includeme(config):
    """`request.api`: the process's ApiAccess, on the app's Redis client."""
    settings = settings_of(config.registry)
    access = api_access_from_settings(settings, redis=config.registry[REDIS])
    config.registry[API] = access
    config.add_request_method(lambda request: request.registry[API], "api", reify=True)

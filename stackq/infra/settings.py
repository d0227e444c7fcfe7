"""Settings: ini values overridden by STACKQ_* environment variables, typed once.

Each setting is declared once in `DECLARED` (key, parser with its bounds,
default, one line of help); `DEFAULTS`, the `Settings` fields and the parsing
are derived from it. Adding a setting is adding one `Setting(...)` line and
its row in the README's settings table (a test holds the two together).
"""

import os
import re
from dataclasses import dataclass, make_dataclass

from .redis_url import check_redis_url
from .registry import SETTINGS, settings_of
from .setting_parsers import SettingsError, checked, flag, secret

DEFAULT_API_URL = "https://api.stackexchange.com/2.3"
SORT_COLUMNS = ("activity", "creation", "votes", "title", "answers", "views")
PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


@dataclass(frozen=True)
class Rate:
    """`count` requests per `period` seconds."""

    count: float
    period: float

    @property
    def per_second(self):
        return self.count / self.period


# Parsers: each returns a function (key, raw text) -> typed value, raising SettingsError.

def text():
    return lambda key, value: str(value).strip()


def words():
    return lambda key, value: tuple(str(value).split())


def number(kind, low, high=None, expected=None):
    if expected is None:
        expected = f"a number >= {low}" if high is None else f"a number from {low} to {high}"

    def convert(text):
        try:
            result = kind(text)
        except ValueError:
            return None
        return result if low <= result and (high is None or result <= high) else None

    return checked(expected, convert)


def host_names():
    """`localhost example.org:8080 [::1]` or `*`: at least one (none would refuse every page)."""
    return checked("host names, space-separated, or * for any",
                   lambda text: tuple(text.split()) or None)


def whole_numbers(low, high):
    def convert(text):
        try:
            numbers = tuple(int(v) for v in text.split())
        except ValueError:
            return None
        return numbers if numbers and all(low <= n <= high for n in numbers) else None

    return checked(f"whole numbers from {low} to {high}, space-separated", convert)


def named_values():
    """`total=!abc bodies=!def`: (name, value) pairs, whitespace-separated; empty: none."""
    def convert(text):
        pairs = [word.partition("=") for word in text.split()]
        if any(not name or not value for name, _, value in pairs):
            return None
        return tuple((name, value) for name, _, value in pairs)

    return checked("name=value pairs like total=!abc, whitespace-separated", convert)


def choice(options):
    return checked("one of " + " ".join(options), lambda text: text if text in options else None)


def http_urls():
    def parse(key, value):
        urls = tuple(u.rstrip("/") for u in str(value).split())
        if not urls:
            raise SettingsError(key, value, "at least one http(s) URL")
        for url in urls:
            if not re.match(r"^https?://[^/\s]+", url):
                raise SettingsError(key, value, f"{url!r} is not an http(s) URL")
        return urls

    return parse


def rate():
    """`25`, `2.5`, `25/second`, `30/minute`."""
    def convert(text):
        found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(?:/\s*(second|minute|hour))?", text.lower())
        if not found or float(found.group(1)) <= 0:
            return None
        return Rate(float(found.group(1)), PERIODS[found.group(2) or "second"])

    return checked("a rate like 25, 2.5, 25/second or 30/minute", convert)


def database_url():
    def parse(key, value):
        url = str(value).strip()
        if not url:
            raise SettingsError(key, url, "set a database URL (STACKQ_SQLALCHEMY_URL)")
        # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3; stackq runs on psycopg2.
        return re.sub(r"^(postgres|postgresql)://", "postgresql+psycopg2://", url)

    return parse


def redis_url():
    def parse(key, value):
        try:
            return check_redis_url(str(value).strip())
        except ValueError as error:
            raise SettingsError(key, value, str(error)) from None

    return parse


DURATION_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def duration():
    """`24h`, `90m`, `3600` (seconds), `1d`: seconds, at least one."""
    def convert(text):
        found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", text.lower())
        seconds = float(found.group(1)) * DURATION_UNITS[found.group(2)] if found else 0.0
        return seconds if seconds >= 1 else None

    return checked("a duration like 24h, 90m, 1d or 3600 (seconds)", convert)


def share():
    """`20%` or `0.2`: a share from 0 to below 1."""
    def convert(text):
        try:
            result = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            return None
        return result if 0 <= result < 1 else None

    return checked("a share like 20% or 0.2 (0 to below 100%)", convert)


@dataclass(frozen=True)
class Setting:
    key: str  # the ini key, e.g. "stackq.api.max_rate"
    parse: object  # (key, raw text) -> typed value
    default: str | None  # raw text; None: computed where it is used
    help: str  # one line, as in the README's table

    @property
    def attr(self):
        """Its `Settings` attribute: `stackq.api.max_rate` -> `api_max_rate`."""
        return self.key.removeprefix("stackq.").replace(".", "_")

    @property
    def env(self):
        return env_name(self.key)


DECLARED = (
    Setting("sqlalchemy.url", database_url(), None, "the database; a SQLite file in var/"),
    Setting("redis.url", redis_url(), "", "Redis; empty: the embedded Redis"),
    Setting("stackq.api.urls", http_urls(), DEFAULT_API_URL, "the API and its mirrors"),
    Setting("stackq.api.key", text(), "", "application key"),
    Setting("stackq.api.max_rate", rate(), "25", "calls per mirror"),
    Setting("stackq.api.timeout", number(float, 0.001), "10", "seconds per API call"),
    Setting("stackq.api.cache_ttl", number(int, 0), "600", "seconds a raw API page is reused"),
    Setting("stackq.api.max_wait", number(float, 0), "10",
            "seconds a call may wait for a free mirror"),
    Setting("stackq.api.expected_processes", number(int, 1), "4",
            "processes sharing the mirrors"),
    Setting("stackq.api.max_in_flight", number(int, 1), "1",
            "calls of one API method in flight at once per mirror"),
    Setting("stackq.api.filters", named_values(), "",
            "filter strings made beforehand, by name (total=...)"),
    Setting("stackq.cache.ttl", number(int, 0), "60", "seconds a full HTTP response is cached"),
    # Copies kept in one process outlive an invalidation by the event's delivery time
    # at worst, but a longer life would let processes disagree for longer.
    Setting("stackq.cache.local_ttl", number(float, 0, 1, "seconds from 0 to 1"), "1",
            "most seconds a web process keeps its own copy of a cached page"),
    Setting("stackq.refresh.interval", number(int, 1), "600", "seconds between refresh cycles"),
    Setting("stackq.refresh.full_every", duration(), "24h",
            "every stored question is re-read at least this often"),
    Setting("stackq.refresh.quota_reserve", share(), "20%",
            "share of the daily quota the refresher never spends"),
    Setting("stackq.page_sizes", whole_numbers(1, 100), "25 50 100", "rows per page offered"),
    Setting("stackq.default_sort", choice(SORT_COLUMNS), "activity", "default sort column"),
    Setting("stackq.allowed_hosts", host_names(), "localhost 127.0.0.1 [::1]",
            "Host values the app answers (ports ignored; * any)"),
    Setting("stackq.ws.allowed_origins", words(), "", "origins besides the app's own for /ws"),
    Setting("stackq.ws.ping_interval", number(float, 0.1), "25",
            "seconds of silence before /ws pings"),
    Setting("stackq.ws.silence_limit", number(float, 0.1), "60",
            "seconds a /ws client may send nothing, pongs included, before it is dropped"),
    Setting("stackq.tasks.keep_days", number(int, 1), "30",
            "days finished tasks stay in the history"),
    Setting("stackq.tasks.page_refresh", number(int, 1), "2",
            "seconds between reloads of a task page without JavaScript"),
    Setting("stackq.tasks.max_queued_per_client", number(int, 1), "10",
            "tasks one client may have queued or running at once"),
    Setting("stackq.watch.keep_days", number(int, 1), "90",
            "days a search's change history is kept"),
    Setting("stackq.search.time_limit", number(float, 0.001), "5",
            "seconds a full-text search may run before it is stopped (a 503 page)"),
    Setting("stackq.auth.enabled", flag(), "false", "every change needs a user or an API token"),
    Setting("stackq.auth.read", choice(("public", "login")), "public", "login: reading too"),
    Setting("stackq.session.secret", secret(), "", "signs the session cookie; needed with auth"),
    Setting("stackq.trusted_proxies", words(), "", "proxies whose X-Forwarded-* are believed"),
)

# Every key the product reads, with its default; env overrides apply to these
# and to any other key the ini file sets.
DEFAULTS = {s.key: s.default for s in DECLARED}

Settings = make_dataclass(
    "Settings", [(s.attr, object) for s in DECLARED] + [("here", str)], frozen=True
)
Settings.__doc__ = "Every declared setting, typed, as an attribute (`settings.api_max_rate`)."


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
    raw[SETTINGS] = typed
    return raw


# Accounts on and no secret: every process building the app refuses with this one line.
NO_SECRET = ("stackq: stackq.auth.enabled is on but stackq.session.secret is empty: set "
             "STACKQ_SESSION_SECRET to a random string of 32 characters or more (e.g. "
             "python -c 'import secrets; print(secrets.token_urlsafe(48))')")


def refusal(settings, here=None, environ=None):
    """The one line a process refuses the raw app `settings` with (a bad value, accounts on
    and no secret), or None. Pyramid-free: gunicorn's master asks it before any worker."""
    try:
        typed = load_settings(settings, here, environ)[SETTINGS]
    except SettingsError as error:
        return f"stackq: {error}"
    return NO_SECRET if typed.auth_enabled and not typed.session_secret else None


def parse_settings(raw, here):
    raw = dict(raw)
    if raw.get("sqlalchemy.url") is None:
        raw["sqlalchemy.url"] = "sqlite:///" + os.path.join(here, "var", "stackq.sqlite")
    values = {s.attr: s.parse(s.key, raw[s.key]) for s in DECLARED}
    return Settings(**values, here=here)


def parse_rate(key, value):
    """`25`, `2.5`, `25/second`, `30/minute` as a Rate."""
    return rate()(key, value)


def includeme(config):
    # Views read `request.settings`, never registry strings.
    config.add_request_method(lambda request: settings_of(request.registry), "settings",
                              reify=True)

"""`redis.url` forms: what redis-py takes (`redis://`, `rediss://`, `unix://`), or a Sentinel set.

`redis+sentinel://[:password@]host:26379[,host:26379...]/SERVICE[/DB][?sentinel_password=P]`
names the sentinels to ask and the service whose master to use; the password (if any) is the
master's, `sentinel_password` the sentinels' own (their `requirepass`).
"""

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

SENTINEL_SCHEME = "redis+sentinel"
PLAIN_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_SENTINEL_PORT = 26379


@dataclass(frozen=True)
class SentinelURL:
    sentinels: tuple  # ((host, port), ...)
    service: str
    db: int = 0
    password: str | None = None
    sentinel_password: str | None = None


def _host_port(text):
    host, colon, port = text.rpartition(":")
    if not colon:
        host, port = text, str(DEFAULT_SENTINEL_PORT)
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is no host:port")
    return host, int(port)


def parse_sentinel_url(url):
    """The parts of a `redis+sentinel://` URL; ValueError naming what is wrong."""
    # urlsplit reads one host only: split the comma-separated list by hand.
    rest, _, query = url.split("://", 1)[1].partition("?")
    netloc, _, path = rest.partition("/")
    password = None
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        password = unquote(userinfo.partition(":")[2]) or None
    sentinels = tuple(_host_port(part) for part in netloc.split(",") if part)
    if not sentinels:
        raise ValueError("no sentinel host:port before the service name")
    parts = [part for part in path.split("/") if part]
    if not parts or len(parts) > 2:
        raise ValueError("expected /SERVICE or /SERVICE/DB after the sentinels")
    if len(parts) == 2 and not parts[1].isdigit():
        raise ValueError(f"database {parts[1]!r} is no number")
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - {"sentinel_password"})
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r} (only sentinel_password)")
    sentinel_password = options.get("sentinel_password", [""])[-1] or None
    return SentinelURL(sentinels, unquote(parts[0]), int(parts[1]) if len(parts) == 2 else 0,
                       password, sentinel_password)


def check_redis_url(url):
    """`url` if stackq can use it (empty: the embedded Redis); ValueError otherwise."""
    if not url:
        return url
    scheme = urlsplit(url).scheme
    if scheme == SENTINEL_SCHEME:
        parse_sentinel_url(url)
    elif scheme not in PLAIN_SCHEMES:
        raise ValueError(f"scheme {scheme!r} is none of {', '.join(PLAIN_SCHEMES)}"
                         f" or {SENTINEL_SCHEME}")
    return url

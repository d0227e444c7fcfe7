"""Web origins: who may open `/ws`, and what pages may connect to (Content-Security-Policy)."""

import re
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# The WebSocket scheme a page of each web scheme connects with.
WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss"}
# A name or an address, nothing else: an origin may end up in a header (the CSP).
HOSTNAME = re.compile(r"[a-z0-9.:-]+\Z")


def normalized_origin(value):
    """`HTTPS://Example.com:443/` -> `https://example.com:443`; None if it is no web origin."""
    try:
        parts = urlsplit((value or "").strip().lower())
        port = parts.port
    except ValueError:  # a port that is not a number
        return None
    host = parts.hostname
    if parts.scheme not in DEFAULT_PORTS or not host or not HOSTNAME.match(host):
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{port or DEFAULT_PORTS[parts.scheme]}"


def allowed_origins(host_url, extra):
    """The app's own scheme+host+port, as a request reached it, plus `extra`."""
    return {o for o in map(normalized_origin, (host_url, *extra)) if o}


def origin_allowed(origin, host_url, extra=()):
    """Browsers always send Origin; a client that sends none is no page of another site."""
    if origin is None:
        return True
    return normalized_origin(origin) in allowed_origins(host_url, extra)


def websocket_sources(host_url, extra):
    """CSP `connect-src` sources for the WebSocket of each allowed origin (ws:/wss: forms)."""
    sources = set()
    for origin in allowed_origins(host_url, extra):
        scheme, rest = origin.split("://", 1)
        sources.add(f"{WEBSOCKET_SCHEMES.get(scheme, scheme)}://{rest}")
    return sorted(sources)

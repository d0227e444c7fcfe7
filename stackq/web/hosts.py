"""The Host allow-list (`stackq.allowed_hosts`): stackq answers only the names it is served at.

Why: a web page can make a browser send requests to 127.0.0.1 under the page's own name (DNS
rebinding: `attacker.example` resolves to the attacker's server, then to 127.0.0.1). The
browser then treats stackq's answers as the attacker's page's own, same-origin, cookies and
all; the only trace of it is the `Host` header, which still says `attacker.example`. So a
request whose Host is not listed is refused before anything reads it.

Where: first thing in the request guard (`stackq.web.guard`), the outermost tween that does
anything before the app (the security headers tween over it only adds headers on the way
out): so before the debug toolbar (its pages included), the `/ws` tween, the response cache
and routing. The server handler (`stackq.server.handler`, pserve and gunicorn alike) asks
`stackq.notify.websocket.handshake_refusal`, which asks `host_refusal`, before it upgrades a
WebSocket handshake, which never reaches the tweens as a plain request.

Ports are ignored: `localhost:6543` is `localhost`. A request with no Host at all (HTTP/1.0)
is let through: no browser sends one, and pages then use the server's own name.
"""

import functools
import re

ANY_HOST = "*"
# A Host value: a name or IPv4 address, or a bracketed IPv6 address; then maybe a port.
NAME_AND_PORT = re.compile(r"(\[[^\]]*\]|[^:]*)(?::(\d+))?")


def host_name(host):
    """`Example.COM.:6543` -> `example.com`, `[::1]:80` -> `[::1]`: what the list holds."""
    return NAME_AND_PORT.match(host.strip().lower()).group(1).rstrip(".")


@functools.lru_cache(maxsize=8)
def allowed_host_names(words):
    """The setting's words (a tuple) as names to compare with (`*` kept as it is)."""
    return frozenset(word if word == ANY_HOST else host_name(word) for word in words)


def host_allowed(host, allowed):
    """Whether a request with Host `host` (None: no header) is one stackq answers;
    `allowed` is the setting's words."""
    names = allowed_host_names(tuple(allowed))
    return host is None or ANY_HOST in names or host_name(host) in names


def host_and_port(host, default_port):
    """`Example.com:8080` -> (`example.com`, 8080); `example.com` -> (`example.com`,
    default_port): a browser leaves the port out of Host where it is its scheme's default."""
    port = NAME_AND_PORT.match(host.strip().lower()).group(2)
    return host_name(host), int(port) if port else default_port


def host_refusal(environ, allowed):
    """The message refusing this request's Host, or None if it is allowed; `allowed` is
    the setting's words (`settings.allowed_hosts`)."""
    host = environ.get("HTTP_HOST")
    if host_allowed(host, allowed):
        return None
    return (f"stackq does not answer to the Host {host_name(host)!r}. Its operator lists the"
            " names it is served at in the setting stackq.allowed_hosts.")

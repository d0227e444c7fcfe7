"""Security headers on every answer, added over the response cache so a HIT carries them too.

The cache keeps a page as its view rendered it; these headers are added to each answer on
its way out, whether it was rendered now, came from the cache, or is an error page.
"""

import functools

from pyramid.tweens import INGRESS

from .origins import websocket_sources

# Tweens that must run inside stackq's own (guard, `/ws`, these headers): every one present.
TWEENS_BELOW = ["pyramid_debugtoolbar.toolbar_tween_factory",
                "stackq.cache.tween.cache_tween_factory", "pyramid_tm.tm_tween_factory"]
# The toolbar's own pages (development only) run inline scripts; they are left as they are.
TOOLBAR_PATH = "/_debug_toolbar/"
FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# No inline script or style anywhere: every script and style sheet is a file in /static/.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
          "connect-src 'self' {sockets}")
CSRF_PAGE = "stackq.csrf_page"  # environ flag: this answer holds the visitor's CSRF token


# Kept per host the app is reached at: the same few strings for every answer. Bounded, as
# the Host header is the client's to choose.
@functools.lru_cache(maxsize=64)
def content_security_policy(host_url, allowed_origins):
    """The policy for a page reached at `host_url`: its `/ws` and the allowed origins' ones.

    `allowed_origins` is a tuple (the setting's words), so that it can be a key of the cache.
    """
    return POLICY.format(sockets=" ".join(websocket_sources(host_url, allowed_origins)))


def mark_csrf_page(request):
    """Called by whatever puts the visitor's token in a page: that answer is never stored."""
    request.environ[CSRF_PAGE] = True


def add_security_headers(request, response):
    if request.environ.get("PATH_INFO", "").startswith(TOOLBAR_PATH):
        return response
    response.headers.update(FIXED_HEADERS)
    settings = request.settings
    response.headers["Content-Security-Policy"] = content_security_policy(
        request.host_url, settings.ws_allowed_origins)
    if request.environ.get(CSRF_PAGE):
        response.headers["Cache-Control"] = "no-store"
    return response


def security_headers_tween_factory(handler, registry):
    def security_headers_tween(request):
        return add_security_headers(request, handler(request))

    return security_headers_tween


def includeme(config):
    config.add_tween("stackq.web.headers.security_headers_tween_factory", under=INGRESS,
                     over=TWEENS_BELOW)

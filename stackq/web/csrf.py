"""CSRF on every unsafe request (a token in a cookie, sent back in a form field or header),
security headers on every answer, and the check of the raw request."""

from pyramid.csrf import CookieCSRFStoragePolicy, get_csrf_token

from .headers import mark_csrf_page


def csrf_token(request):
    """The visitor's token; only pages that carry a form call this (it may set a cookie).

    Such a page is marked `Cache-Control: no-store`: the token is this visitor's alone.
    """
    mark_csrf_page(request)
    return get_csrf_token(request)


def includeme(config):
    # A cookie, not a session: stackq keeps no per-visitor state on the server.
    config.set_csrf_storage_policy(CookieCSRFStoragePolicy(samesite="Lax"))
    # Form field `csrf_token`, header `X-CSRF-Token`.
    config.set_default_csrf_options(require_csrf=True)
    # Every answer: security headers outermost, then the check of the raw request.
    config.include("stackq.web.headers")
    config.include("stackq.web.guard")

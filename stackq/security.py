"""CSRF on every unsafe request: a token in a cookie, sent back in a form field or header."""

from pyramid.csrf import CookieCSRFStoragePolicy, get_csrf_token


def csrf_token(request):
    """The visitor's token; only pages that carry a form call this (it may set a cookie)."""
    return get_csrf_token(request)


def includeme(config):
    # A cookie, not a session: stackq keeps no per-visitor state on the server.
    config.set_csrf_storage_policy(CookieCSRFStoragePolicy(samesite="Lax"))
    # Form field `csrf_token`, header `X-CSRF-Token`.
    config.set_default_csrf_options(require_csrf=True)

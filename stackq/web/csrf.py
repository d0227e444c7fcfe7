"""CSRF on every unsafe request (a token in a cookie, sent back in a form field or header,
and the page that sent it on this very site), security headers on every answer, and the
check of the raw request."""

import logging

from pyramid.csrf import CookieCSRFStoragePolicy, check_csrf_token, get_csrf_token

from .guard import Refused, refusal_page
from .headers import TWEENS_BELOW, mark_csrf_page
from .hosts import host_and_port, host_name
from .origins import DEFAULT_PORTS, normalized_origin

log = logging.getLogger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# environ flag: the request proved who sent it with an API token (`Authorization: Bearer`), a
# header no page of another site can make a browser send, so it needs no CSRF token.
TOKEN_AUTHENTICATED = "stackq.token_authenticated"


def needs_csrf_check(request):
    return not request.environ.get(TOKEN_AUTHENTICATED)


def csrf_passed(request):
    """For a form that checks its token itself (a cached page's: a miss asks to confirm):
    the request carries this visitor's CSRF token, or an API token and needs none."""
    return not needs_csrf_check(request) or check_csrf_token(request, raises=False)


def csrf_token(request):
    """The visitor's token; only pages that carry a form call this (it may set a cookie).

    Such a page is marked `Cache-Control: no-store`: the token is this visitor's alone.
    """
    mark_csrf_page(request)
    return get_csrf_token(request)


def sending_page(request):
    """(header, value) naming the page that sent this request (Origin, else Referer); None
    when there is neither: no browser page sent it, and the token alone decides."""
    for header in ("Origin", "Referer"):
        value = request.headers.get(header)
        if value is not None:
            return header, value
    return None


def same_site(request, page):
    """Whether the page at `page` (an Origin or Referer) is on the host and port this request
    was sent to. The scheme is left out: behind a proxy ending TLS the page is https and the
    request reaches stackq as http, under the same Host (whose port the browser leaves out
    where it is the page's scheme's default, as it does in Origin)."""
    origin = normalized_origin(page)  # scheme://name:port, None for `null` or junk
    if origin is None:
        return False
    scheme, _, rest = origin.partition("://")
    name, _, port = rest.rpartition(":")
    return host_and_port(request.host, DEFAULT_PORTS[scheme]) == (name, int(port))


def cross_site_refusal(request):
    """Refused (403) for an unsafe request a page of another site sent, else None.

    The token alone is not enough over plain HTTP: its cookie is unsigned, and a page of the
    same site (another port of localhost, a sibling subdomain) may set it and post along
    with it; Pyramid compares Origin with the site only over HTTPS. Browsers name the page
    in Origin on every unsafe request (Referer, which stackq's Referrer-Policy keeps to its
    own pages, where an old one does not).
    """
    if request.method in SAFE_METHODS:
        return None
    sent = sending_page(request)
    if sent is None or same_site(request, sent[1]):
        return None
    header, page = sent
    return Refused(403, "Sent from another site",
                   f"This request came from a page that is not on {host_name(request.host)}"
                   f" (its {header} header). stackq takes forms from its own pages only.")


def same_site_tween_factory(handler, registry):
    def same_site_tween(request):
        refused = cross_site_refusal(request)
        if refused is None:
            return handler(request)
        log.info("refused %s %s sent from another site: %s", request.method, request.path,
                 sending_page(request))
        return refusal_page(request, refused)

    return same_site_tween


def includeme(config):
    # A cookie, not a session: stackq keeps no per-visitor state on the server.
    config.set_csrf_storage_policy(CookieCSRFStoragePolicy(samesite="Lax"))
    # Form field `csrf_token`, header `X-CSRF-Token`.
    config.set_default_csrf_options(require_csrf=True, callback=needs_csrf_check)
    # Every answer: security headers outermost, then the check of the raw request, then
    # where an unsafe one was sent from (before the toolbar, the cache, the views).
    config.include("stackq.web.headers")
    config.include("stackq.web.guard")
    config.add_tween("stackq.web.csrf.same_site_tween_factory",
                     under="stackq.web.guard.guard_tween_factory", over=TWEENS_BELOW)

"""`/login`, `/logout`, and what a visitor who may not do something is told."""

import logging
from urllib.parse import urlencode, urlsplit

from pyramid.csrf import new_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import forbidden_view_config, view_config

from ..infra.registry import REDIS, SIGN_IN_THROTTLE, SIGNED_OUT
from ..web.clients import client_address
from ..web.csrf import SAFE_METHODS, TOKEN_AUTHENTICATED, csrf_token, same_site
from .passwords import MAX_PASSWORD
from .policy import bearer_token
from .signed_out import SignedOutSessions
from .throttle import SignInThrottle
from .users import authenticate

log = logging.getLogger(__name__)
LOGIN = "stackq.accounts:templates/login.jinja2"
SIGN_IN_NEEDED = "stackq.accounts:templates/sign_in_needed.jinja2"
API_PATHS = r"^/api/"
OPEN = {"permission": NO_PERMISSION_REQUIRED}  # sign-in and sign-out: anyone may try


def local_path(value):
    """`value` if it is a path of this site (`/queries/7?page=2`), else `/`: `next` must not
    send a visitor who just signed in to another site."""
    value = value or ""
    parts = urlsplit(value)
    if (not value.startswith("/") or value.startswith("//") or "\\" in value
            or parts.scheme or parts.netloc or any(ord(c) < 32 for c in value)):
        return "/"
    return value


def login_page(request, status=200, error=None, username="", next_path="/"):
    request.response.status = status
    return {"error": error, "username": username, "next": next_path,
            "csrf_token": csrf_token(request)}


@view_config(route_name="login", request_method="GET", renderer=LOGIN, **OPEN)
def login_form(request):
    return login_page(request, next_path=local_path(request.GET.get("next")))


@view_config(route_name="login", request_method="POST", renderer=LOGIN, **OPEN)
def login(request):
    name = request.POST.get("username", "").strip()
    password = request.POST.get("password", "")
    next_path = local_path(request.POST.get("next"))
    address = client_address(request)
    throttle = request.registry[SIGN_IN_THROTTLE]
    wait = throttle.retry_after(name, address)
    if wait is not None:
        log.warning("sign-in refused for %r from %s: too many failures", name[:150], address)
        request.response.headers["Retry-After"] = str(wait)
        minutes = max(1, round(wait / 60))
        return login_page(request, 429, f"Too many failed sign-ins for this name from your"
                          f" address. Try again in {minutes} min.", name, next_path)
    # Too long to be anyone's: checked all the same, so it takes the time a wrong one does.
    user = authenticate(request.dbsession, name,
                        password if len(password) <= MAX_PASSWORD else "")
    if user is None:
        log.info("sign-in failed for %r from %s", name[:150], address)  # never the password
        throttle.failed(name, address)
        return login_page(request, 400, "Wrong user name or password.", name, next_path)
    throttle.succeeded(name, address)
    log.info("%s signed in from %s", user.name, address)
    response = HTTPSeeOther(request.application_url + next_path)
    response.headers.extend(remember(request, user.id))
    new_csrf_token(request)  # a token known before signing in (planted?) is not the user's

    return response


@view_config(route_name="logout", request_method="POST", **OPEN)
def logout(request):
    return HTTPSeeOther(request.route_url("home"), headers=forget(request))


def back_after_sign_in(request):
    """Where to go once signed in: this page for a GET, else the page the form was on."""
    if request.method in SAFE_METHODS:
        return request.path_qs
    referer = request.headers.get("Referer", "")
    if referer and same_site(request, referer):
        parts = urlsplit(referer)
        return local_path(parts.path + (f"?{parts.query}" if parts.query else ""))
    return "/"


def login_url(request, next_path):
    return request.route_url("login") + "?" + urlencode({"next": next_path})


@forbidden_view_config(path_info=API_PATHS, renderer="json", denied_permission=True)
def api_needs_token(exc, request):
    """401 with `WWW-Authenticate: Bearer` (RFC 6750), as the JSON API's other errors."""
    challenge = 'Bearer realm="stackq"'
    if bearer_token(request) is not None and not request.environ.get(TOKEN_AUTHENTICATED):
        challenge += ', error="invalid_token"'
    request.response.status = 401
    request.response.cache_control = "no-store"
    request.response.headers["WWW-Authenticate"] = challenge
    return {"errors": [{"field": "Authorization",
                        "message": "sign in, or send an API token: Authorization: Bearer "
                                   "TOKEN (stackq_user INI token NAME makes one)"}]}


@forbidden_view_config(renderer=SIGN_IN_NEEDED, denied_permission=True)
def sign_in_needed(exc, request):
    request.response.status = 403
    request.response.cache_control = "no-store"
    doing = "see this page" if request.method in SAFE_METHODS else "change anything here"
    return {"message": f"Sign in to {doing}.",
            "login_url": login_url(request, back_after_sign_in(request))}


class DeniedPermission:
    """View predicate `denied_permission=True`: the exception is the security policy's refusal
    (a Forbidden carrying its `result`), not a 403 a view raised itself (a stale CSRF token)."""

    def __init__(self, value, config):
        self.value = bool(value)

    def text(self):
        return f"denied_permission = {self.value}"

    phash = text

    def __call__(self, context, request):
        return (getattr(context, "result", None) is not None) == self.value


def includeme(config):
    config.registry[SIGN_IN_THROTTLE] = SignInThrottle(config.registry[REDIS])
    config.registry[SIGNED_OUT] = SignedOutSessions(config.registry[REDIS])
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")

"""Who is signed in, over the response cache: pages hold a slot, filled in for each visitor.

Every page's layout has ACCOUNT_SLOT in its header when auth is on; the page is rendered and
cached with the slot empty (the same for everyone), and this tween, over the cache, puts in
"Sign in" or the visitor's name and a sign-out form (with their CSRF token, so that answer is
marked `no-store`). A HIT is filled in the same way: the cache never holds a name.

With `stackq.auth.read = login` the cache must not answer an anonymous visitor either: such a
request passes the cache (cache.policy.PASS) and meets its view's permission check.
"""

from pyramid.renderers import render

from ..cache.policy import PASS
from ..infra.registry import DBSESSION_FACTORY, settings_of
from ..models import new_transaction
from ..notify.websocket import refuse
from ..web.csrf import csrf_token
from ..web.headers import mark_csrf_page
from .policy import bearer_token, find_identity
from .sessions import COOKIE
from .views import back_after_sign_in, login_url

ACCOUNT_SLOT = b"<!--stackq:account-->"
WHO = "stackq.accounts:templates/who.jinja2"
LOOKED_UP = "stackq.accounts.visitor"  # environ: `visitor`'s own lookup, done once a request


def carries_credentials(request):
    return COOKIE in request.cookies or bearer_token(request) is not None


def visitor(request):
    """The signed-in user, or None; looked up in a short transaction of its own when no view
    did (a cache hit), since this tween runs outside the request's."""
    if "account" in request.__dict__:
        return request.account
    if not carries_credentials(request):
        return None
    if LOOKED_UP not in request.environ:
        with new_transaction(request.registry[DBSESSION_FACTORY]) as dbsession:
            user = find_identity(request, dbsession)
            request.environ[LOOKED_UP] = user and UserShown(user.id, user.name)
    return request.environ[LOOKED_UP]


class UserShown:
    """What the slot shows of a user looked up in a transaction that has ended."""

    def __init__(self, id, name):
        self.id, self.name = id, name


def fill_slot(request, response):
    if (response.content_type != "text/html" or not isinstance(response.app_iter, list | tuple)
            or ACCOUNT_SLOT not in response.body):
        return response
    user = visitor(request)
    login = request.route_url("login")
    if request.path != request.route_path("login"):
        login = login_url(request, back_after_sign_in(request))
    values = {"user": user, "login_url": login, "logout_url": request.route_url("logout")}
    if user is not None:
        mark_csrf_page(request)
        values["csrf_token"] = csrf_token(request)
    fragment = render(WHO, values, request=request).encode()
    response.body = response.body.replace(ACCOUNT_SLOT, fragment, 1)
    return response


def account_tween_factory(handler, registry):
    read_needs_login = settings_of(registry).auth_read == "login"

    def account_tween(request):
        if read_needs_login and visitor(request) is None:
            ws = request.environ.get("wsgi.websocket")
            if ws is not None:  # notices name the searches: readers only
                refuse(ws, "sign in first")
                return request.response
            request.environ[PASS] = True
        return fill_slot(request, handler(request))

    return account_tween

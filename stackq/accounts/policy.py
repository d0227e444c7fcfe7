"""The security policy: who the visitor is (session or bearer token) and what they may do.

Two permissions. READ, the default of every view: anyone, or with `stackq.auth.read =
login` a signed-in user. CHANGE, needed by every request with an unsafe method (POST,
DELETE...) whatever view it reaches (`changes_need_a_user`, a view deriver, so a new route
cannot forget it): a signed-in user or an API token. Every user may do everything: stackq has
no roles.
"""

import hmac
import secrets

from pyramid.httpexceptions import HTTPForbidden
from pyramid.security import NO_PERMISSION_REQUIRED, Allowed, Denied

from ..infra.registry import SIGNED_OUT
from ..models import User
from ..web.csrf import SAFE_METHODS, TOKEN_AUTHENTICATED
from .sessions import COOKIE
from .users import session_fingerprint, user_for_token

READ = "read"
CHANGE = "change"
SIGNED_IN = "user"  # session keys: the user's id,
SESSION_ID = "sid"  # the session's own id (new at each sign-in),
FINGERPRINT = "fp"  # users.session_fingerprint of the user when they signed in


def bearer_token(request):
    """The token of `Authorization: Bearer TOKEN`; "" for another Authorization; None: none."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def find_identity(request, dbsession):
    """The signed-in User of this request, or None. A request that sends a bearer token is who
    the token says, or nobody (a bad token never falls back to the session cookie)."""
    token = bearer_token(request)
    if token is not None:
        user = user_for_token(dbsession, token) if token else None
        request.environ[TOKEN_AUTHENTICATED] = user is not None
        return user
    if COOKIE not in request.cookies:
        return None  # no session read: an anonymous page sets no cookie and stays cacheable
    session = request.session
    user_id = session.get(SIGNED_IN)
    user = dbsession.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        return None
    expected = session_fingerprint(request.settings.session_secret, user)
    if not hmac.compare_digest(str(session.get(FINGERPRINT, "")), expected):
        return None
    session_id = session.get(SESSION_ID)
    if not isinstance(session_id, str) or session_id in request.registry[SIGNED_OUT]:
        session.invalidate()  # a copy of a signed-out cookie: never issued again
        return None
    return user


class AccountsPolicy:
    def __init__(self, read_needs_login):
        self.read_needs_login = read_needs_login

    def identity(self, request):
        return request.account

    def authenticated_userid(self, request):
        user = request.account
        return user.id if user is not None else None

    def permits(self, request, context, permission):
        user = request.account  # looked up here, in the request's transaction, for the page too
        if permission == READ and not self.read_needs_login:
            return Allowed("reading is public (stackq.auth.read = public)")
        if user is None:
            return Denied(f"{permission!r} needs a signed-in user or an API token")
        return Allowed(f"{user.name} is signed in")

    def remember(self, request, userid, **kw):
        """Sign `userid` in on a new session: whatever session the visitor came with (one
        somebody else may have planted) is dropped, and the session id is a new one."""
        user = request.dbsession.get(User, userid)
        session = request.session
        session.invalidate()
        session.update({SIGNED_IN: user.id, SESSION_ID: secrets.token_urlsafe(24),
                        FINGERPRINT: session_fingerprint(request.settings.session_secret, user)})
        request.account = user
        return []

    def forget(self, request, **kw):
        """Sign out: this session, and every copy of its cookie (signed_out.py)."""
        session_id = request.session.get(SESSION_ID)
        if isinstance(session_id, str):
            request.registry[SIGNED_OUT].add(session_id)
        request.session.invalidate()
        return []


def changes_need_a_user(view, info):
    """View deriver: a request with an unsafe method needs CHANGE, whatever view it reaches
    (except those open to everyone: sign-in, error pages)."""
    if info.exception_only or info.options.get("permission") == NO_PERMISSION_REQUIRED:
        return view

    def guarded(context, request):
        if request.method not in SAFE_METHODS and request.exception is None:
            allowed = request.has_permission(CHANGE, context)
            if not allowed:
                raise HTTPForbidden(result=allowed)
        return view(context, request)

    return guarded

"""The session cookie, and what a request says of its visitor behind a proxy.

The session is a signed cookie (Pyramid's SignedCookieSessionFactory, JSON, HMAC-SHA512 with
`stackq.session.secret`): it holds the user's id, a random session id made at sign-in and a
fingerprint of their password hash, nothing else. HttpOnly, SameSite=Lax, and Secure when the
request came over https, which behind a proxy only the proxy knows: its `X-Forwarded-Proto`
is believed when it comes from an address in `stackq.trusted_proxies`, never otherwise.
"""

from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from ..web.clients import from_trusted_proxy

COOKIE = "stackq_session"
IDLE_TIMEOUT = 12 * 3600  # seconds without a request before a session ends
REISSUE = 600  # seconds between reissues of a used session's cookie (moves its timeout)


def is_https(request):
    if request.scheme == "https":
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    return from_trusted_proxy(request) and forwarded.split(",")[0].strip().lower() == "https"


def session_factory(secret):
    """A session factory whose cookie is Secure exactly when the request came over https."""
    options = {"cookie_name": COOKIE, "httponly": True, "samesite": "Lax",
               "timeout": IDLE_TIMEOUT, "reissue_time": REISSUE,
               "serializer": JSONSerializer()}
    over_https = SignedCookieSessionFactory(secret, secure=True, **options)
    over_http = SignedCookieSessionFactory(secret, secure=False, **options)

    def session(request):
        return (over_https if is_https(request) else over_http)(request)

    return session

"""Which answers may be kept and shown to other visitors."""

MAX_BODY = 1024 * 1024
# Headers of the original answer a hit does not repeat: the server adds its
# own Date, and these two describe the hit itself.
NOT_STORED_HEADERS = frozenset({"date", "x-cache", "age"})
PER_VISITOR_CONTROLS = ("no-store", "private", "no-cache")
CSRF_COOKIE = "csrf_token"  # pyramid's CookieCSRFStoragePolicy default
MIN_TOKEN = 16
# environ flag set by a tween above the cache: this request must reach its view (whose
# permission check refuses it), so the cache neither answers it nor keeps its answer.
PASS = "stackq.cache.pass"


def declared_unshareable(response):
    """True if the page says itself it may not be shared (no-store marks a page that
    changes by the second, such as a running task's)."""
    control = response.headers.get("Cache-Control", "").lower()
    return "Vary" in response.headers or any(word in control for word in PER_VISITOR_CONTROLS)


def storable(request, response):
    """True if `response` holds nothing that belongs to one visitor or one moment.

    Only complete 200 answers that set no cookie and do not declare themselves
    unshareable. Pyramid sets cookies in response callbacks that run after every
    tween, so a pending callback counts as a cookie. Last, a body that contains
    the visitor's own CSRF token is theirs alone, however it got there.
    """
    if response.status_code != 200 or request.exception is not None:
        return False
    if request.response_callbacks or "Set-Cookie" in response.headers:
        return False
    if declared_unshareable(response):
        return False
    if not isinstance(response.app_iter, list | tuple):
        return False  # streamed: reading it here would hold it all in memory
    body = response.body
    if len(body) > MAX_BODY:
        return False
    token = request.cookies.get(CSRF_COOKIE, "")
    # Real tokens are 32+ characters; a junk cookie like "a" must not make
    # every page this visitor renders unshareable.
    return not (len(token) >= MIN_TOKEN and token.encode() in body)


def stored_headers(response):
    return [(name, value) for name, value in response.headerlist
            if name.lower() not in NOT_STORED_HEADERS]

"""Which requests the cache may answer, under which key, and what makes the page stale."""

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from pyramid.httpexceptions import HTTPBadRequest

from .origin import cached_page


@dataclass(frozen=True)
class CacheKey:
    text: str  # the normalized request, the local layer's key
    digest: str  # its hash, the Redis key
    generation_key: str  # the counter whose change makes the page stale


def raw_request(environ):
    """A request as it arrived (no route matched, nothing parsed): all its key is made of."""
    return (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
            environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO"),
            environ.get("QUERY_STRING", ""))


class CacheKeys:
    """`cache_key`, remembered for the last `size` requests as they arrived: matching the
    route, reading the parameters and hashing took half the time of a hit. A key depends on
    nothing else, as no route of stackq's has a predicate (tests/cache/test_cache.py)."""

    def __init__(self, registry, size=1000):
        self.registry = registry
        self.size = size
        self.known = OrderedDict()  # raw_request -> CacheKey or None

    def __call__(self, request, raw):
        """The key of `request`, which arrived as `raw` (`raw_request`); None for a request
        the cache never answers: not a GET, a WebSocket's, or a page that did not opt in."""
        environ = request.environ
        if environ.get("REQUEST_METHOD") != "GET" or "HTTP_UPGRADE" in environ:
            return None
        try:
            return self.known[raw]
        except KeyError:
            pass
        key = self.known[raw] = cache_key(self.registry, request)
        if len(self.known) > self.size:
            self.known.popitem(last=False)
        return key


def cache_key(registry, request):
    """The key of a GET (CacheKeys asks only for those) whose view opted in to caching;
    None for a page that did not.

    Pages hold absolute links built from the request's scheme and host, so
    those are part of the key: a forged Host header never reaches another
    visitor's page.
    """
    try:
        found = cached_page(registry, request)
        if found is None:
            return None
        page, match = found
        query = page.query(request)
    except (HTTPBadRequest, UnicodeDecodeError):
        return None  # the view answers 400, which is never cached
    text = f"{request.application_url}{request.path_info}?{query}"
    return CacheKey(text, hashlib.sha1(text.encode()).hexdigest(), page.generation_key(match))

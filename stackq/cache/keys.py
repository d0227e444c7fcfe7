"""Which requests the cache may answer, under which key, and what makes the page stale."""

import hashlib
from dataclasses import dataclass

from pyramid.httpexceptions import HTTPBadRequest

from .origin import cached_page


@dataclass(frozen=True)
class CacheKey:
    text: str  # the normalized request, the local layer's key
    digest: str  # its hash, the Redis key
    generation_key: str  # the counter whose change makes the page stale


def cache_key(registry, request):
    """The key of a GET whose view opted in to caching; None for any other request.

    Pages hold absolute links built from the request's scheme and host, so
    those are part of the key: a forged Host header never reaches another
    visitor's page.
    """
    if request.method != "GET" or "HTTP_UPGRADE" in request.environ:
        return None
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

"""Pyramid include for the cache's real-server tests: counts what reaches the views.

Two tweens around the response cache write to the app's Redis, so counts add
up across server processes: `renders` (requests that got past the cache to
the app) and the peak of requests in flight at once (above the cache), which
proves the requests really were concurrent.
`/_probe/slow` is a cacheable page that takes half a second to render.
"""

import time

from pyramid.response import Response
from pyramid.tweens import INGRESS

from stackq.cache import CachedPage
from stackq.infra.registry import REDIS

CACHE_TWEEN = "stackq.cache.tween.cache_tween_factory"
PREFIX = "stackq:probe:"


def probe_key(kind, path):
    return f"{PREFIX}{kind}:{path}"


def renders_key(path):
    return probe_key("renders", path)


def peak_in_flight(client, path):
    """The most requests for `path` the servers held at once."""
    return int(client.zscore(probe_key("peak", path), "peak") or 0)


def arrivals_tween_factory(handler, registry):
    client = registry[REDIS]

    def arrivals(request):
        path = request.path_info
        in_flight = client.incr(probe_key("in_flight", path))
        client.zadd(probe_key("peak", path), {"peak": in_flight}, gt=True)
        try:
            return handler(request)
        finally:
            client.decr(probe_key("in_flight", path))

    return arrivals


def renders_tween_factory(handler, registry):
    client = registry[REDIS]

    def renders(request):
        client.incr(renders_key(request.path_info))
        return handler(request)

    return renders


def slow(request):
    time.sleep(0.5)  # patched by gevent: other requests go on meanwhile
    return Response(f"rendered at {time.time()}", content_type="text/plain")


def includeme(config):
    config.add_route("cache_probe_slow", "/_probe/slow")
    config.add_view(slow, route_name="cache_probe_slow", request_method="GET",
                    cached=CachedPage())
    config.add_tween(f"{__name__}.arrivals_tween_factory", over=CACHE_TWEEN, under=INGRESS)
    config.add_tween(f"{__name__}.renders_tween_factory", under=CACHE_TWEEN)

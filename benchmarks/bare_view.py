"""A bare Pyramid view returning a constant: the yardstick benchmarks compare against."""

from pyramid.response import Response

BODY = b"stackq" * 1000


def bare(request):
    response = Response(BODY, content_type="text/plain")
    # The yardstick must not be served by the response cache it is measured against.
    response.cache_control = "no-store"
    return response


def includeme(config):
    config.add_route("bench_bare", "/_bench/bare")
    config.add_view(bare, route_name="bench_bare")

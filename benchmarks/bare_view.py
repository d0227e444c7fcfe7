"""A bare Pyramid view returning a constant: the yardstick benchmarks compare against."""

from pyramid.response import Response

BODY = b"stackq" * 1000


def bare(request):
    return Response(BODY, content_type="text/plain")


def includeme(config):
    config.add_route("bench_bare", "/_bench/bare")
    config.add_view(bare, route_name="bench_bare")

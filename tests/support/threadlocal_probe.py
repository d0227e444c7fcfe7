"""Pyramid include for tests: does get_current_request() see *this* request?

The view sleeps so that many requests are in flight at once; under a server
whose greenlets share pyramid's thread-local stack, another request's push
lands on top meanwhile and ``same`` comes back false.
"""

import time

from pyramid.threadlocal import get_current_request

# Greenlets of one process: plain ints are safe (no switch between the reads
# and writes). ``peak`` lets a test prove the requests overlapped at all.
_in_flight = 0
_peak = 0


def probe(request):
    global _in_flight, _peak
    _in_flight += 1
    _peak = max(_peak, _in_flight)
    try:
        time.sleep(0.05)  # patched by gevent: yields to other requests
    finally:
        _in_flight -= 1
    return {
        "same": get_current_request() is request,
        "id": request.params.get("id"),
        "peak": _peak,
    }


def includeme(config):
    config.add_route("threadlocal_probe", "/_probe/threadlocal")
    config.add_view(probe, route_name="threadlocal_probe", renderer="json")

"""Pyramid include for tests of the admission gate: a request that stays in the app.

``/_probe/hold`` stays until ``/_probe/release`` (20 s at most), holding its slot at the
gate meanwhile; ``/_probe/hold?until=PATH`` stays until the file PATH exists instead, so a
test can let it go without a request through the gate. ``/_probe/holding`` says how many
stay. Served by pserve, whose patched ``threading.Event`` and ``time.sleep`` wait as a
greenlet.
"""

import os
import threading
import time

from pyramid.response import Response

HOLD_AT_MOST = 20.0  # seconds
CHUNK = b"x" * (1024 * 1024)
BIG = 64  # chunks: loopback's socket buffers take a few MB
_released = threading.Event()
_holding = 0


def until_file(path):
    deadline = time.monotonic() + HOLD_AT_MOST
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def hold(request):
    global _holding
    _holding += 1
    try:
        path = request.params.get("until")
        released = until_file(path) if path else _released.wait(HOLD_AT_MOST)
    finally:
        _holding -= 1
    return {"released": released}


def holding(request):
    return {"holding": _holding}


def release(request):
    _released.set()
    return {"holding": _holding}


def big(request):
    return Response(app_iter=(CHUNK for _ in range(BIG)), content_length=len(CHUNK) * BIG,
                    content_type="application/octet-stream")


def includeme(config):
    for name, view in (("hold", hold), ("holding", holding), ("release", release)):
        config.add_route(f"gate_probe_{name}", f"/_probe/{name}")
        config.add_view(view, route_name=f"gate_probe_{name}", renderer="json")
    config.add_route("gate_probe_big", "/_probe/big")
    config.add_view(big, route_name="gate_probe_big")

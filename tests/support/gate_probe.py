"""Pyramid include for tests of the admission gate: a request that stays in the app.

``/_probe/hold`` stays until ``/_probe/release`` (20 s at most), holding its slot at the
gate meanwhile; ``/_probe/holding`` says how many stay. Served by pserve, whose patched
``threading.Event`` waits as a greenlet.
"""

import threading

_released = threading.Event()
_holding = 0


def hold(request):
    global _holding
    _holding += 1
    try:
        released = _released.wait(20)
    finally:
        _holding -= 1
    return {"released": released}


def holding(request):
    return {"holding": _holding}


def release(request):
    _released.set()
    return {"holding": _holding}


def includeme(config):
    for name, view in (("hold", hold), ("holding", holding), ("release", release)):
        config.add_route(f"gate_probe_{name}", f"/_probe/{name}")
        config.add_view(view, route_name=f"gate_probe_{name}", renderer="json")

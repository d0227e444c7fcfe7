"""Blocking work run beside the gevent hub, not in its thread."""

import sys


def off_the_loop(function, *args):
    """`function(*args)`; under gevent (threading patched), in the hub's thread pool, so that
    the worker's other greenlets go on meanwhile. For work that releases the GIL while it
    works: argon2's hashing, SQLite's statements."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        import gevent

        return gevent.get_hub().threadpool.apply(function, args)
    return function(*args)

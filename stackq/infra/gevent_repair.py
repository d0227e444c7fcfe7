"""Repairs a process needs to serve Pyramid under gevent: patching, and what patching misses.

``pserve`` imports pyramid and loads the app *before* it calls a server runner, so
monkey-patching there is late: pyramid's thread-local manager already exists as a real
``threading.local``, which every greenlet of the one OS thread shares, and modules that did
``from ssl import X`` hold the unpatched X. ``patch_for_gevent()`` repairs both
(tests/server/test_server.py proves it through the real server), and is the one place
psycopg2 is made to wait through gevent. ``notify_without_yield()`` (gunicorn's worker runs
it too) keeps ``threading.Condition`` from yielding while its lock is held.
"""

import logging
import sys
import threading
import warnings

import gevent.local
import gevent.monkey

log = logging.getLogger(__name__)


class GreenletLocalManager(gevent.local.local):
    """pyramid.threadlocal.ThreadLocalManager, but one stack per greenlet.

    A copy rather than a subclass: ThreadLocalManager's base is the C
    ``_thread._local`` captured before patching, which cannot be mixed with
    ``gevent.local.local``. gevent re-runs ``__init__`` (with the same
    arguments) the first time each greenlet touches the instance.
    """

    def __init__(self, default=None):
        self.stack = []
        self.default = default

    def push(self, info):
        self.stack.append(info)

    set = push  # pyramid keeps this alias for backwards compatibility

    def pop(self):
        if self.stack:
            return self.stack.pop()

    def get(self):
        try:
            return self.stack[-1]
        except IndexError:
            return self.default()

    def clear(self):
        self.stack[:] = []


def swap_threadlocal_manager():
    """Replace pyramid's manager everywhere a reference to it is held.

    ``pyramid.view``, ``pyramid.config`` and ``pyramid.testing`` did
    ``from pyramid.threadlocal import manager`` and ``Configurator`` copies it
    into a class attribute, so rebinding ``pyramid.threadlocal.manager`` alone
    is not enough. Scanning ``sys.modules`` also catches any third-party module
    that imported it the same way. Returns the names swapped (for logging and
    tests); safe to call twice.
    """
    import pyramid.threadlocal
    from pyramid.config import Configurator

    old = pyramid.threadlocal.manager
    if isinstance(old, GreenletLocalManager):
        return []
    new = GreenletLocalManager(default=old.default)
    swapped = []
    for name, module in list(sys.modules.items()):
        # Lazy/odd module objects can raise on attribute access: skip them.
        try:
            holds_old = vars(module).get("manager") is old
        except TypeError:
            continue
        if holds_old:
            module.manager = new
            swapped.append(name)
    if Configurator.__dict__.get("manager") is old:
        Configurator.manager = new
        swapped.append("pyramid.config.Configurator.manager")
    return sorted(swapped)


# Names gevent replaces in these modules, which code imported before patching
# may still hold: ``from ssl import SSLContext`` (urllib3, redis) makes every
# HTTPS request die with RecursionError (gevent issue #1016), and
# ``from time import sleep`` (redis.retry) blocks all greenlets.
REBIND_MODULES = ("ssl", "time", "socket")


def rebind_early_imports():
    """Point early ``from ssl/time/socket import X`` copies at gevent's X.

    That is what those modules would hold had patching come first. Only
    classes and functions are rebound (a saved ``True`` is not a copy), and
    gevent's own modules, the patched modules and C modules (``_socket``,
    ``_ssl``) keep their originals, which gevent relies on. Returns
    ``module.name`` strings rebound.
    """
    replacements = {}
    for module_name in REBIND_MODULES:
        patched_module = sys.modules.get(module_name)
        for name, original in gevent.monkey.saved.get(module_name, {}).items():
            if not callable(original):
                continue
            patched = getattr(patched_module, name, original)
            if patched is not original:
                replacements[id(original)] = (original, patched)
    skip = set(gevent.monkey.saved)
    rebound = []
    for mod_name, module in list(sys.modules.items()):
        if mod_name in skip or mod_name.startswith(("gevent", "_")):
            continue
        try:
            namespace = vars(module)
        except TypeError:
            continue
        for attr, value in list(namespace.items()):
            hit = replacements.get(id(value))
            if hit is not None and hit[0] is value:
                setattr(module, attr, hit[1])
                rebound.append(f"{mod_name}.{attr}")
    return rebound


def patch_psycopg():
    """Make psycopg2 wait through gevent instead of blocking the process.

    Only once gevent has patched the process (else psycopg2 has no greenlets to yield to);
    False when nothing was patched. psycogreen's patch is idempotent.
    """
    if not gevent.monkey.is_module_patched("socket"):
        return False
    try:
        from psycogreen.gevent import patch_psycopg as _patch
    except ImportError:  # psycopg2 not installed: nothing would block
        return False
    _patch()
    return True


def _is_owned_by_locked(condition):
    # What the stdlib's fallback answers (held by anyone counts as owned), without trying to
    # acquire: gevent's lock yields when a non-blocking acquire fails.
    return condition._lock.locked()


def notify_without_yield():
    """``Condition.notify()`` under gevent: no switch while the caller holds the lock.

    For a plain lock the stdlib checks ownership with ``lock.acquire(False)``, which fails
    (the caller holds it), and gevent's lock then sleeps to let spin locks progress. So
    every ``queue.Queue.put``/``get`` that wakes a waiter (redis-py's and SQLAlchemy's
    connection pools) went round the whole event loop holding the queue's mutex, and every
    other greenlet wanting a connection queued behind it: under load a Redis call took
    several turns of the loop, seconds at 200 connections (benchmarks/load.py). Conditions
    over an RLock use the lock's own ``_is_owned`` and are untouched; returns True if this
    call changed the class.
    """
    if threading.Condition._is_owned is _is_owned_by_locked:
        return False
    threading.Condition._is_owned = _is_owned_by_locked
    return True


def patch_for_gevent():
    """Everything a process needs before serving pyramid under gevent."""
    with warnings.catch_warnings():
        # gevent warns that ssl was imported before patching: true under
        # pserve, and rebind_early_imports() repairs what it warns about.
        warnings.filterwarnings(
            "ignore",
            message="Monkey-patching ssl after ssl has already been imported",
            category=gevent.monkey.MonkeyPatchWarning,
        )
        gevent.monkey.patch_all()
    rebound = rebind_early_imports()
    swapped = swap_threadlocal_manager()
    patch_psycopg()
    notify_without_yield()
    log.debug("rebound to gevent: %s", ", ".join(rebound) or "nothing")
    log.debug("greenlet-local pyramid manager in: %s", ", ".join(swapped))
    return swapped

"""Which requests the server lets into the app first: those answered without waiting on the
database, the API or a render (stackq/server/admission.py).

Under load every request waits its turn at the door, and a static file or a cached page
waited as long as a page rendered from the database. These are let in ahead: a file under a
static view, and a GET of a page the response cache answered the last time this process
served it. That is a hint: a page dropped since (its search changed) is rendered once in the
quick line and cached again, which benchmarks/load.py found better for the home page (every
new search drops it) than a quarter of a second in the other line. The others are let in at
most the gate's `longest_wait` later (that quarter of a second), so they are never starved.
"""

from pyramid.interfaces import IStaticURLInfo

from ..infra.registry import QUICK_REQUEST, RESPONSE_CACHE

# After the static views and the response cache are registered (their actions run at 0).
AFTER_VIEWS = 10


class QuickRequests:
    """`quick(environ)`: whether the request is a static file or a page the cache answers."""

    def __init__(self, static_prefixes, cache):
        self.static_prefixes = tuple(static_prefixes)
        self.cache = cache  # None when the response cache is off

    def __call__(self, environ):
        if environ.get("PATH_INFO", "").startswith(self.static_prefixes):
            return True
        return self.cache is not None and self.cache.is_quick(environ)


def static_prefixes(registry):
    """The paths of the app's own static views (`config.add_static_view`), `/static/`..."""
    info = registry.queryUtility(IStaticURLInfo)
    # Served here, a view behind a route named "__" + its path; others have a URL instead.
    return ["/" + route.removeprefix("__").lstrip("/") for url, _spec, route in
            getattr(info, "registrations", ()) if url is None]


def register(registry):
    registry[QUICK_REQUEST] = QuickRequests(static_prefixes(registry),
                                            registry.get(RESPONSE_CACHE))


def includeme(config):
    config.action(None, register, (config.registry,), order=AFTER_VIEWS)

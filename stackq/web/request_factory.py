"""One request class holding every request method and property the includes add.

`config.add_request_method` stays the way to extend the request, but Pyramid applies its
properties by making a new subclass of the request's class for each request (and again at
each `apply_request_extensions`): at 1,000 requests a second that was a twentieth of a
worker's time (benchmarks/load.py, py-spy). Once configuration is done, this folds them into
one subclass, made once, and leaves Pyramid nothing to apply per request.
"""

from pyramid.interfaces import IRequestExtensions, IRequestFactory
from pyramid.request import Request

# After every other action of the same commit (add_request_method's run at order 0).
AFTER_EXTENSIONS = 10


def fold_request_extensions(registry):
    extensions = registry.queryUtility(IRequestExtensions)
    if extensions is None or not (extensions.methods or extensions.descriptors):
        return
    base = registry.queryUtility(IRequestFactory, default=Request)
    attributes = {**extensions.methods, **extensions.descriptors,
                  "__module__": base.__module__, "__doc__": base.__doc__}
    registry.registerUtility(type(base.__name__, (base,), attributes), IRequestFactory)
    extensions.methods, extensions.descriptors = {}, {}


def includeme(config):
    config.action(None, fold_request_extensions, (config.registry,), order=AFTER_EXTENSIONS)

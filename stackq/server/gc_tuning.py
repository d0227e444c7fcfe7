"""Once the app is built, a gevent server moves its startup objects out of the cyclic GC."""

import gc

from pyramid.events import ApplicationCreated


def freeze_startup_objects(event):
    """In a gevent server, keep the app's own objects out of the cyclic GC's full scans.

    A full collection walks every object: with the app's startup objects (modules, mappers,
    templates) and 2,000 sockets it stalled the process for 150 ms, which a notice landing
    then waited out (benchmarks/notify.py). Objects alive once the app is built live as long
    as the process, so scanning them again and again finds nothing.
    """
    import gevent.monkey

    if gevent.monkey.is_module_patched("socket"):
        gc.collect()
        gc.freeze()


def includeme(config):
    config.add_subscriber(freeze_startup_objects, ApplicationCreated)

"""The process: the gevent paste server (`runner`), its WebSocket-aware handler, the
gunicorn worker, the admission gate and which requests are quick, and `run` (web app and
refresher together).

Imports nothing at import time: gunicorn imports the worker before its workers patch.
"""


def includeme(config):
    """What the app offers the server: which requests are quick, and the GC's start-up freeze."""
    config.include(".priority")
    config.include(".gc_tuning")

"""Infrastructure every package stands on: settings, the registry's names, Redis, the events
channel, single flight, the clock, gevent patching.

Nothing here imports Pyramid at import time (`pserve` and gunicorn import the server, and
through it these modules, before the process is patched for gevent).
"""


def includeme(config):
    config.include(".settings")
    config.include(".redis_client")
    config.include(".pubsub")

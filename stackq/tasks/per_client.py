"""Each client's share of the queue: at most `stackq.tasks.max_queued_per_client` tasks
queued or running at once, so one client cannot queue the day's work away from the others.

A client is the request's remote address, or behind a proxy in `stackq.trusted_proxies`
the address that proxy was asked by (X-Forwarded-For is believed from those alone).
"""

from ..web.clients import client_address
from . import queue

# A hint for a client refused: tasks end at their own pace, so look again in a minute.
RETRY_AFTER = 60


def add_client_task(request, kind, params, delay):
    """Queue the task for the request's client; queue.TooManyQueued past the client's limit."""
    return queue.add_task(request.dbsession, kind, params, delay, client=client_address(request),
                          max_queued=request.settings.tasks_max_queued_per_client)


def refused_headers():
    return {"Retry-After": str(RETRY_AFTER)}

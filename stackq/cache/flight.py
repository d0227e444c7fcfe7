"""Single-flight: many requests for one uncached page, one rendering.

Inside a process the first request for a key leads and the others wait on
its flight; across processes the leaders race for a short Redis lock and
the losers poll Redis for the winner's entry. A waiter that gets nothing (the
page was not cacheable, or rendering outlasted the wait) renders by itself.
"""

import threading
import time

from . import store

POLL_INTERVAL = 0.02


class Flight:
    def __init__(self):
        self.done = threading.Event()  # a gevent Event once the server has patched
        self.entry = None


class Flights:
    def __init__(self):
        self.running = {}

    def lead_or_follow(self, key):
        """(flight, True) for the leader, who must call `land`; (flight, False) for a waiter."""
        flight = self.running.get(key)
        if flight is not None:
            return flight, False
        flight = self.running[key] = Flight()
        return flight, True

    def land(self, key, flight, entry):
        flight.entry = entry
        if self.running.get(key) is flight:
            del self.running[key]
        flight.done.set()


def wait_for_entry(client, digest, generation_key, timeout):
    """The entry another process is rendering, or None once its lock is gone or on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
        pipe = client.pipeline(transaction=False)
        pipe.mget(store.entry_key(digest), generation_key)
        pipe.exists(store.lock_key(digest))
        (data, generation), locked = pipe.execute()
        entry = store.matching_entry(digest, data, generation)
        if entry is not None:
            return entry
        if not locked:
            return None
    return None

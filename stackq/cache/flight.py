"""Single flight for pages: many requests for one uncached page, one rendering.

Inside a process the first request for a key leads and the others wait on its
flight (`stackq.infra.flight.Flights`); across processes the leaders race for a short
Redis lock and the losers poll Redis for the winner's entry. A waiter that gets
nothing (the page was not cacheable, or rendering outlasted the wait) renders
by itself.
"""

from ..infra.flight import poll
from . import store


def wait_for_entry(client, digest, generation_key, timeout):
    """The entry another process is rendering, or None once its lock is gone or on timeout."""
    def look():
        pipe = client.pipeline(transaction=False)
        pipe.mget(store.entry_key(digest), generation_key)
        pipe.exists(store.lock_key(digest))
        (data, generation), locked = pipe.execute()
        entry = store.matching_entry(digest, data, generation)
        return entry is not None or not locked, entry

    return poll(look, timeout)

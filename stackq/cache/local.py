"""The process-local layer: copies of Redis entries kept for at most a second.

A hit served from Redis costs a network round trip, which alone halves what a
worker can serve (benchmarks/pages.py); a copy kept in the process for up to
one second serves the same hits with no I/O. Copies are dropped the moment
this process learns of an invalidation (its own, or another process's
`cache_invalidated` event), so the layer adds at most the event's delivery
time to how long a changed page can still be seen.

Each copy lives a random share of the ttl, between half and all of it: copies
stored at the same instant (every page refilled after the last expiry) would
otherwise all expire at the same instant again, and once a second the worker
would look up every page in Redis at once while their other requests wait.
"""

import random
import time
from collections import OrderedDict

from .store import LISTINGS

MAX_ENTRIES = 1000
MAX_BYTES = 64 * 1024 * 1024
SHORTEST = 0.5  # of the ttl: the share a copy lives at least


class LocalCache:
    def __init__(self, ttl=1.0, max_entries=MAX_ENTRIES, max_bytes=MAX_BYTES, clock=time.time,
                 share=random.random):
        self.ttl = min(ttl, 1.0)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.clock = clock
        self.share = share  # a number in [0, 1): where in the jitter range a copy ends
        self.entries = OrderedDict()  # key -> (expires, generation_key, entry), oldest first
        self.size = 0  # bytes of body held
        self.passes = OrderedDict()  # key -> expires: pages that answered "do not store"
        # Requests as they arrive (`raw_request`) whose page the cache answered (or stored)
        # the last time, oldest first: the server lets these in ahead of the others
        # (stackq/server/priority.py). A hint only: a drop keeps it, as the page is rendered once
        # and answered from the cache again; a page that was not is forgotten.
        self.answered = OrderedDict()
        # Bumped by every drop: a copy rendered before a drop is not kept after it.
        self.epoch = 0

    def get(self, key):
        item = self.entries.get(key)
        if item is None:
            return None
        if item[0] <= self.clock():
            self.remove(key)
            return None
        return item[2]

    def put(self, key, generation_key, entry, epoch, expires):
        """Keep `entry` unless a drop happened since `epoch` was read."""
        if self.ttl <= 0 or epoch != self.epoch:
            return
        self.remove(key)
        lifetime = self.ttl * (SHORTEST + (1 - SHORTEST) * self.share())
        self.entries[key] = (min(self.clock() + lifetime, expires), generation_key, entry)
        self.size += len(entry.body)
        while len(self.entries) > self.max_entries or self.size > self.max_bytes:
            self.remove(next(iter(self.entries)))

    def remove(self, key):
        item = self.entries.pop(key, None)
        if item is not None:
            self.size -= len(item[2].body)

    def drop(self, generation_keys):
        """Forget the copies made stale by these generation counters."""
        self.epoch += 1
        stale = set(generation_keys) | {LISTINGS}
        # A copy of the items: the event listener may run on a thread of its own.
        for key, (_, generation_key, _) in list(self.entries.items()):
            if generation_key in stale:
                self.remove(key)

    def clear(self):
        self.epoch += 1
        self.entries.clear()
        self.passes.clear()
        self.answered.clear()
        self.size = 0

    def is_pass(self, key):
        """True while `key` is known to answer pages that must not be stored."""
        expires = self.passes.get(key)
        if expires is None:
            return False
        if expires <= self.clock():
            self.passes.pop(key, None)
            return False
        return True

    def mark_pass(self, key, seconds):
        self.passes[key] = self.clock() + seconds
        self.passes.move_to_end(key)
        while len(self.passes) > self.max_entries:
            self.passes.popitem(last=False)

    def note_answered(self, raw, answered=True):
        """Whether the cache answered (or stored) the page `raw` asks for: if it did, it will
        most likely again."""
        if not answered:
            self.answered.pop(raw, None)
            return
        self.answered[raw] = True
        self.answered.move_to_end(raw)
        while len(self.answered) > self.max_entries:
            self.answered.popitem(last=False)

    def was_answered(self, raw):
        return raw in self.answered

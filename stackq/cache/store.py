"""The shared layer of the response cache: entries, generations and locks in Redis.

Every cached page depends on one generation counter: a saved search's pages on
that search's, every other page (the home page lists every search) on the
listings'. An entry records the generation it was rendered under; a lookup
reads the entry and the current generation in one MGET and keeps the entry
only if they match. Invalidating is therefore one INCR per search, no scan,
and a page rendered while its search changed is never served (it was stored
under the old generation).
"""

import json
import logging
import random
from dataclasses import dataclass, field

import redis

from ..infra.pubsub import publish

log = logging.getLogger(__name__)

PREFIX = "stackq:cache:"
LISTINGS = PREFIX + "gen:all"
EVENT_TYPE = "cache_invalidated"


def search_generation(search_id):
    return f"{PREFIX}gen:q:{int(search_id)}"


def entry_key(digest):
    return f"{PREFIX}page:{digest}"


def lock_key(digest):
    return f"{PREFIX}lock:{digest}"


@dataclass
class Entry:
    """A stored response: status, headers and body, and what it was built from."""

    status: int
    headers: list
    body: bytes
    stored_at: float
    generation: int
    # How a hit sends it (encoding.Forms), made on the first hit of this copy; never stored.
    forms: object = field(default=None, repr=False, compare=False)

    def pack(self):
        head = json.dumps([self.status, self.headers, self.stored_at, self.generation])
        return head.encode() + b"\n" + self.body

    @classmethod
    def unpack(cls, data):
        head, _, body = data.partition(b"\n")
        status, headers, stored_at, generation = json.loads(head)
        return cls(status, [tuple(h) for h in headers], body, stored_at, generation)


def matching_entry(digest, data, generation):
    """The entry stored as `data` if it was rendered under `generation`, else None."""
    if data is None or generation is None:
        return None
    try:
        entry = Entry.unpack(data)
    except (ValueError, TypeError):
        log.warning("ignoring an unreadable cache entry %s", digest)
        return None
    return entry if entry.generation == int(generation) else None


def lookup(client, digest, generation_key):
    """The valid entry for `digest`, read with its generation in one round trip."""
    data, generation = client.mget(entry_key(digest), generation_key)
    return matching_entry(digest, data, generation)


def claim(client, digest, generation_key, lock_seconds):
    """(True if this process renders the page, the generation it renders under).

    A missing counter starts at a random number, not 1, so a counter lost
    (evicted, flushed) and recreated never matches an entry stored before.
    """
    pipe = client.pipeline(transaction=False)
    pipe.set(lock_key(digest), b"1", nx=True, px=int(lock_seconds * 1000))
    pipe.set(generation_key, random.getrandbits(48), nx=True)
    pipe.get(generation_key)
    locked, _, generation = pipe.execute()
    return bool(locked), int(generation)


def save(client, digest, entry, ttl):
    """Store `entry` for `ttl` seconds and let waiting processes have it."""
    pipe = client.pipeline(transaction=False)
    pipe.set(entry_key(digest), entry.pack(), px=max(1, int(ttl * 1000)))
    pipe.delete(lock_key(digest))
    pipe.execute()


def release(client, digest):
    client.delete(lock_key(digest))


def generation_keys(search_ids):
    return [search_generation(i) for i in search_ids] + [LISTINGS]


def bump_generations(client, search_ids):
    """Drop the cached pages of `search_ids` and every listing page, in Redis.

    Returns {generation key: its new value}.
    """
    keys = generation_keys(search_ids)
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.incr(key)
    return dict(zip(keys, pipe.execute(), strict=True))


def drop_searches(client, search_ids):
    """Bump the generations of `search_ids` and the listings, and tell every web process.

    Returns {generation key: new value}; raises redis.RedisError.
    """
    ids = sorted({int(i) for i in search_ids})
    bumped = bump_generations(client, ids)
    publish(client, {"type": EVENT_TYPE, "query_ids": ids})
    return bumped


def invalidate_searches(client, search_ids):
    """Drop the cached pages of these saved searches, and the pages listing searches.

    Call it after the transaction that changed their results has committed.
    Every web process drops its local copies on the `cache_invalidated` event
    this publishes. An empty `search_ids` still drops the listing pages (a
    search was created or renamed). Returns False, having logged why, when
    Redis cannot be reached: the cached pages then expire within
    `stackq.cache.ttl`; nothing stored in the database is affected.
    """
    return try_drop(client, search_ids) is not None


def drop_committed(client, committed):
    """Drop the pages a commit changed (a models.changes.Committed), in every process: the
    generations bumped ({} when it changed nothing), or None when Redis could not be told
    (logged: the pages then expire within the ttl)."""
    if not committed.searches and not committed.listings:
        return {}
    return try_drop(client, committed.searches)


def try_drop(client, search_ids):
    """`drop_searches`, or None (logged) when Redis cannot be reached."""
    try:
        return drop_searches(client, search_ids)
    except redis.RedisError as error:
        log.warning("could not drop cached pages of searches %s: %s", sorted(search_ids), error)
        return None

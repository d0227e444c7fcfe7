"""The response-cache tween: answers cacheable GETs from the local layer or Redis.

It sits above pyramid_tm, so a page is stored only after its transaction committed.
Every commit, a request's or another process's, drops the pages of the searches it
changed (`ResponseCache.after_commit`, a listener of the models' after-commit hook);
a request that changed its own page (fetched on demand) finds the generations its
commit bumped noted on its session, and stores what it rendered under them.
"""

import logging
import time

import redis
from pyramid.response import Response

from ..infra.flight import Flights
from ..infra.registry import EVENTS, RESPONSE_CACHE
from ..models.changes import DROP
from . import encoding, store
from .flight import wait_for_entry
from .keys import CacheKeys, raw_request
from .local import LocalCache
from .policy import PASS, declared_unshareable, storable, stored_headers

log = logging.getLogger(__name__)

# How long a page may take to render before those waiting for it render it too.
RENDER_WAIT = 10.0
BUMPED = "stackq.cache.bumped"  # session.info: {generation key: value} its commits bumped


class ResponseCache:
    def __init__(self, client, settings, registry):
        self.redis = client
        self.settings = settings
        self.registry = registry  # where views' opt-ins are recorded
        self.listening = False
        self.ttl = settings.cache_ttl
        self.local = LocalCache(min(settings.cache_local_ttl, self.ttl))
        self.flights = Flights()
        self.keys = CacheKeys(registry)

    def on_event(self, event):
        """Listener callback: another process (or this one) dropped pages."""
        if event.get("type") == store.EVENT_TYPE:
            self.local.drop(store.generation_keys(event.get("query_ids") or ()))

    def listen(self):
        """Start this process's events listener: local copies need other processes' drops."""
        self.registry[EVENTS].start()  # idempotent, and shared with the WebSocket hub
        self.listening = True

    def serve(self, request, handler):
        if not self.listening:
            self.listen()
        raw = raw_request(request.environ)  # the memo's key and the hint's
        key = None if request.environ.get(PASS) else self.keys(request, raw)
        if key is None or self.local.is_pass(key.text):
            return self.render(request, handler)[0]
        if wants_fresh(request.environ):
            return mark(request, self.render(request, handler)[0], "BYPASS")
        response, entry = self.answer(request, handler, key)
        self.local.note_answered(raw, entry is not None)
        return response

    def answer(self, request, handler, key):
        """From the local copy, another request's render, Redis or a render; (response,
        the entry it was answered from or stored as, None if neither)."""
        entry = self.local.get(key.text)
        if entry is not None:
            return hit(entry, request.environ), entry
        flight, leader = self.flights.lead_or_follow(key.text)
        if not leader:
            flight.done.wait(RENDER_WAIT)
            if flight.result is not None:
                return hit(flight.result, request.environ), flight.result
            # Nothing to share (not cacheable, Redis down, too slow): on its own.
            return self.lead(request, handler, key)
        entry = None
        try:
            response, entry = self.lead(request, handler, key)
        finally:
            self.flights.land(key.text, flight, entry)
        return response, entry

    def is_quick(self, environ):
        """Whether this request is for a page the cache answered lately (`note_answered`):
        a GET that takes no fresh render, answered from memory or with one Redis lookup."""
        return (environ.get("REQUEST_METHOD") == "GET" and not wants_fresh(environ)
                and self.local.was_answered(raw_request(environ)))

    def lead(self, request, handler, key):
        """Look the page up in Redis, else render it once for every process; (response, entry)."""
        epoch = self.local.epoch
        try:
            entry = store.lookup(self.redis, key.digest, key.generation_key)
            if entry is None:
                leader, generation = store.claim(self.redis, key.digest, key.generation_key,
                                                 RENDER_WAIT)
                if not leader:
                    entry = wait_for_entry(self.redis, key.digest, key.generation_key,
                                           RENDER_WAIT)
        except redis.RedisError as error:
            log.debug("cache bypassed for %s: %s", key.text, error)
            response, _ = self.render(request, handler)
            return mark(request, response, "BYPASS"), None
        if entry is not None:
            self.keep_local(key, entry, epoch)
            return hit(entry, request.environ), entry
        if not leader:
            return mark(request, self.render(request, handler)[0], "MISS"), None
        return self.render_and_store(request, handler, key, generation, epoch)

    def render_and_store(self, request, handler, key, generation, epoch):
        entry = None
        try:
            response, bumped = self.render(request, handler)
            if key.generation_key in bumped:
                epoch += 1  # our own drop
                # This request changed its own page (fetched on demand) and
                # rendered the result: it is current unless someone else bumped too.
                if bumped[key.generation_key] != generation + 1:
                    return mark(request, response, "MISS"), None
                generation = bumped[key.generation_key]
            if storable(request, response):
                entry = store.Entry(response.status_code, stored_headers(response),
                                    response.body, time.time(), generation)
                self.save(key, entry, epoch)
            elif response.status_code == 200 and declared_unshareable(response):
                # Varnish's hit-for-pass: skip the lookups while the page says so.
                self.local.mark_pass(key.text, self.ttl)
        finally:
            if entry is None:
                release_quietly(self.redis, key.digest)
        return mark(request, response, "MISS"), entry

    def save(self, key, entry, epoch):
        try:
            store.save(self.redis, key.digest, entry, self.ttl)
        except redis.RedisError as error:
            log.warning("could not store %s in the cache: %s", key.text, error)
            return
        self.keep_local(key, entry, epoch)

    def keep_local(self, key, entry, epoch):
        self.local.put(key.text, key.generation_key, entry, epoch, entry.stored_at + self.ttl)

    def render(self, request, handler):
        """Run the app; (response, {generation key: new value} its commit dropped)."""
        response = handler(request)
        dbsession = request.__dict__.get("dbsession")  # only if the request used one
        return response, ({} if dbsession is None else dbsession.info.pop(BUMPED, {}))

    def follow_commits(self, after_commit):
        """Drop what each commit changed, before notify's listener tells anyone of it (DROP
        runs first, whatever the order listeners were added in: models.changes)."""
        after_commit.add(DROP, self.after_commit)

    def after_commit(self, committed):
        """After any commit of this process (models.changes.Committed): drop the pages of
        the searches it changed, and the listings, here and in every process. False if
        Redis could not be told (logged): the pages then expire within the ttl."""
        self.local.drop(store.generation_keys(committed.searches))
        bumped = store.drop_committed(self.redis, committed)
        if bumped is None:
            return False
        committed.session.info.setdefault(BUMPED, {}).update(bumped)
        return True


def wants_fresh(environ):
    """A hard reload (Cache-Control: no-cache): render for this request, keep nothing."""
    return "no-cache" in environ.get("HTTP_CACHE_CONTROL", "") or (
        "no-cache" in environ.get("HTTP_PRAGMA", ""))


def hit(entry, environ):
    """The answer from a kept page, gzipped if the client takes it (encoding.py)."""
    headers, body = encoding.forms(entry).for_request(environ)
    age = str(max(0, int(time.time() - entry.stored_at)))
    return Response(body=body, status=entry.status,
                    headerlist=[*headers, ("X-Cache", "HIT"), ("Age", age)])


def mark(request, response, state):
    """X-Cache on every answer the cache could have kept."""
    if storable(request, response):
        response.headers["X-Cache"] = state
    return response


def release_quietly(client, digest):
    try:
        store.release(client, digest)
    except redis.RedisError:
        pass  # the lock expires by itself


def cache_tween_factory(handler, registry):
    cache = registry[RESPONSE_CACHE]

    def cache_tween(request):
        return cache.serve(request, handler)

    return cache_tween

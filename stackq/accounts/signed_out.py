"""Sessions signed out: a copy of a signed-out session's cookie is refused, on every host.

A session lives in its cookie (sessions.py), so signing out can only drop the cookie of the
browser that signs out; a copy (stolen, or on another device) would stay valid until it
went unused for 12 hours. Signing out therefore records the session's id in Redis, shared by
every process and host, for as long as any copy of its cookie could still be valid, and
every signed-in request is checked against it.

While Redis cannot be reached, a process still refuses the sessions signed out through
itself, and hands them to Redis once it is back; those signed out through other processes
are let in meanwhile.
"""

import hashlib
import logging
import threading
import time

import redis

from .sessions import IDLE_TIMEOUT

log = logging.getLogger(__name__)

# A cookie is valid until IDLE_TIMEOUT after it was last issued, and a refused session is never
# issued again (policy.find_identity drops it): past this, every copy has expired by itself.
LASTS = IDLE_TIMEOUT + 60  # seconds
MAX_LOCAL = 10_000  # sign-outs one process remembers itself


def signed_out_key(session_id):
    # Hashed: the key alone is then no part of any cookie.
    return "stackq:signed-out:" + hashlib.sha256(session_id.encode()).hexdigest()


class SignedOutSessions:
    def __init__(self, client, clock=time.monotonic):
        self.redis = client
        self.clock = clock
        self.local = {}  # key -> when this process may forget it
        self.unsent = set()  # keys Redis could not be given yet
        self.lock = threading.Lock()

    def add(self, session_id):
        key = signed_out_key(session_id)
        self.remember(key)
        with self.lock:
            self.unsent.add(key)
        try:
            self.send_unsent()
        except redis.RedisError as error:
            log.warning("a sign-out is known to this process only until Redis is back: %s",
                        error)

    def __contains__(self, session_id):
        key = signed_out_key(session_id)
        with self.lock:
            if self.local.get(key, 0.0) > self.clock():
                return True
        try:
            self.send_unsent()
            return bool(self.redis.exists(key))
        except redis.RedisError:
            return False  # let in: refusing would sign everybody out while Redis is down

    def send_unsent(self):
        if not self.unsent:
            return
        with self.lock:
            now, unsent = self.clock(), self.unsent
            self.unsent = set()
            left = {key: self.local.get(key, now) - now for key in unsent}
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for key, seconds in left.items():
                    if seconds >= 1:
                        pipe.set(key, 1, ex=int(seconds))
                pipe.execute()
        except redis.RedisError:
            with self.lock:
                self.unsent |= unsent
            raise

    def remember(self, key):
        now = self.clock()
        with self.lock:
            if len(self.local) >= MAX_LOCAL:
                self.local = {k: ends for k, ends in self.local.items() if ends > now}
                while len(self.local) >= MAX_LOCAL:  # the oldest sign-out goes first
                    del self.local[next(iter(self.local))]
            self.local[key] = now + LASTS

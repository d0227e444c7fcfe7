"""Failed sign-ins, counted per user name and address: after 5 in 15 minutes, wait.

Counted in Redis, so every web process sees the same count; while Redis cannot be reached,
each process counts on its own (an attacker then gets 5 tries per process, not unlimited).
A window starts at the first failure and lasts 15 minutes; a success ends it.
"""

import hashlib
import threading
import time

import redis

LIMIT = 5
WINDOW = 15 * 60  # seconds
MAX_LOCAL = 10_000  # counts one process keeps while Redis is down; names are the client's


def throttle_key(name, address):
    # Hashed: the name is the visitor's text, of any length; the key must not be.
    return "stackq:signin:" + hashlib.sha256(f"{name}\0{address}".encode()).hexdigest()


class SignInThrottle:
    def __init__(self, client, clock=time.monotonic):
        self.redis = client
        self.clock = clock
        self.local = {}  # key -> (failures, window ends)
        self.lock = threading.Lock()

    def retry_after(self, name, address):
        """Seconds to wait before `name` may try again from `address`; None: try now."""
        key = throttle_key(name, address)
        try:
            failures, ttl = self.redis.pipeline().get(key).ttl(key).execute()
            failures = int(failures or 0)
        except redis.RedisError:
            failures, ttl = self.local_count(key)
        return max(1, ttl) if failures >= LIMIT else None

    def failed(self, name, address):
        key = throttle_key(name, address)
        try:
            # The window is set by the first failure only: INCR keeps the key's expiry.
            self.redis.pipeline().set(key, 0, ex=WINDOW, nx=True).incr(key).execute()
        except redis.RedisError:
            self.local_failed(key)

    def succeeded(self, name, address):
        key = throttle_key(name, address)
        with self.lock:
            self.local.pop(key, None)
        try:
            self.redis.delete(key)
        except redis.RedisError:
            pass  # the window ends by itself

    def local_count(self, key):
        with self.lock:
            failures, ends = self.local.get(key, (0, 0.0))
            left = ends - self.clock()
            return (failures, int(left) + 1) if left > 0 else (0, 0)

    def local_failed(self, key):
        now = self.clock()
        with self.lock:
            failures, ends = self.local.get(key, (0, 0.0))
            if ends <= now:
                failures, ends = 0, now + WINDOW
            if len(self.local) >= MAX_LOCAL and key not in self.local:
                self.local = {k: v for k, v in self.local.items() if v[1] > now}
                while len(self.local) >= MAX_LOCAL:  # the oldest window goes first
                    del self.local[next(iter(self.local))]
            self.local[key] = (failures + 1, ends)

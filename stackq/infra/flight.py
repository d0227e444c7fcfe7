"""Single flight: identical work asked for at one moment is done once.

Inside a process, `Flights` lets the first caller of a key lead and the others
wait for its result (the API client's identical calls, the response cache's
renderings of one page). Across processes the leader holds a short Redis lock
and the others `poll` Redis for what it publishes.
"""

import threading
import time

# Pauses between two looks at Redis: short at first, growing to the second value.
POLL_FIRST, POLL_MOST = 0.005, 0.05


class Flight:
    def __init__(self):
        self.done = threading.Event()  # a gevent Event once the server has patched
        self.result = None
        self.error = None


class Flights:
    """The flights under way in this process, by key."""

    def __init__(self):
        self.running = {}
        self.lock = threading.Lock()

    def lead_or_follow(self, key):
        """(flight, True) for the leader, who must call `land`; (flight, False) for a follower."""
        with self.lock:
            flight = self.running.get(key)
            if flight is not None:
                return flight, False
            flight = self.running[key] = Flight()
            return flight, True

    def land(self, key, flight, result=None, error=None):
        """The leader is done: its followers get `result` (or `error`)."""
        flight.result, flight.error = result, error
        with self.lock:
            if self.running.get(key) is flight:
                del self.running[key]
        flight.done.set()

    def run(self, key, call, on_join=None):
        """`call()` once for every caller of `key` at this moment; its result or error."""
        flight, leader = self.lead_or_follow(key)
        if not leader:
            if on_join:
                on_join()
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.result
        try:
            result = call()
        except BaseException as exc:
            self.land(key, flight, error=exc)
            raise
        self.land(key, flight, result)
        return result


def poll(look, timeout=None, first=POLL_FIRST, most=POLL_MOST):
    """Call `look()` after growing pauses until it returns (True, value); that value.

    `look` returns (False, _) to keep waiting. None once `timeout` seconds passed.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = first
    while deadline is None or time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 2, most)
        done, value = look()
        if done:
            return value
    return None

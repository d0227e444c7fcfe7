"""Admission control: how many requests a server process has inside the app at once.

Under load one turn of gevent's loop serves every ready connection, so a request that waits N
times on PostgreSQL or Redis takes N whole turns of every busy connection: at 200 keep-alive
connections on two workers some took 1.5-4 s (benchmarks/load.py). With few requests inside
at once each turn is short, and the rest wait at the door in arrival order.
"""

import collections
import contextlib

import gevent.event

# Chosen by benchmarks/load.py on a 2-core machine (200 connections, 2 workers): with 16
# inside and 0.25 s at most at the door, its worst request in 20 s went from 3.3 s to 0.86 s.
# Benchmark before changing either.
DEFAULT_SIZE = 16
DEFAULT_LONGEST_WAIT = 0.25  # seconds


class AdmissionGate:
    """At most ``size`` requests inside, the others let in first come, first served; none
    waits more than ``longest_wait`` seconds.

    A leaving request hands its slot straight to the first waiter (counted inside before
    that waiter even runs), so a newcomer can never take it first: gevent's ``Semaphore``
    lets newcomers barge ahead of the waiters it has woken, and under load the oldest
    waiters then starve. The bound is for requests that hold a slot for long (a rate-limited
    upstream call, a big export): after ``longest_wait`` a waiter goes in over ``size``, so
    a few slow requests can slow the others by that much at most, never stall them.
    """

    def __init__(self, size=DEFAULT_SIZE, longest_wait=DEFAULT_LONGEST_WAIT):
        self.size = size
        self.longest_wait = longest_wait
        self.inside = 0  # may exceed size, by the waiters the bound let in
        self.waiting = collections.deque()  # one Event per waiter, first come first

    @contextlib.contextmanager
    def admitted(self):
        """Wait for a slot (``longest_wait`` at most), hold it for the block."""
        self.enter()
        try:
            yield
        finally:
            self.leave()

    def enter(self):
        """Take a slot: at once if one is free and nobody waits, else at the back of the queue."""
        if self.inside < self.size and not self.waiting:
            self.inside += 1
            return
        turn = gevent.event.Event()
        self.waiting.append(turn)
        try:
            turn.wait(self.longest_wait)
        except BaseException:  # GreenletExit (a server stopping), Timeout, ...
            if turn.is_set():
                self.leave()  # handed a slot it will not use: to the next waiter
            else:
                self.waiting.remove(turn)
            raise
        # Whether the slot was handed over: the flag says, not wait()'s answer, which is
        # False when the timer fired after leave() set the flag but before the wake-up ran.
        if not turn.is_set():
            self.waiting.remove(turn)
            self.inside += 1

    def leave(self):
        """Give the slot back: straight to the first waiter while there is room."""
        self.inside -= 1
        while self.waiting and self.inside < self.size:
            self.inside += 1
            self.waiting.popleft().set()

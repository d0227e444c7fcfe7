"""Admission control: how many requests a server process has inside the app at once.

Under load one turn of gevent's loop serves every ready connection, so a request that waits N
times on PostgreSQL or Redis takes N whole turns of every busy connection: at 200 keep-alive
connections on two workers some took 1.5-4 s (benchmarks/load.py). With few requests inside
at once each turn is short, and the rest wait at the door in arrival order, those that need
no wait (stackq/server/priority.py) in a line of their own, let in first.
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
    """At most ``size`` requests holding a slot inside, the others let in first come, first
    served, quick ones first; none waits more than ``longest_wait`` seconds.

    A leaving request hands its slot straight to the first waiter (counted inside before
    that waiter even runs), so a newcomer can never take it first: gevent's ``Semaphore``
    lets newcomers barge ahead of the waiters it has woken, and under load the oldest
    waiters then starve. Quick requests (``quick=True``: answered without a wait, a static
    file or a cached page, see stackq/server/priority.py) have their own line, handed slots first.

    The bound is for requests that hold a slot for long (a rate-limited upstream call, a big
    export) and for ordinary requests while quick ones keep every slot busy: after
    ``longest_wait`` a waiter goes in without a slot (``guests``), so it is late by that much
    at most, never stalled, and it takes no slot from those behind it when it leaves.
    """

    def __init__(self, size=DEFAULT_SIZE, longest_wait=DEFAULT_LONGEST_WAIT):
        self.size = size
        self.longest_wait = longest_wait
        self.inside = 0  # requests holding a slot: never more than size
        self.guests = 0  # requests the bound let in without one
        self.waiting = collections.deque()  # one Event per waiter, first come first
        self.quick = collections.deque()  # the same, for quick requests: served first

    @contextlib.contextmanager
    def admitted(self, quick=False):
        """Wait for a slot (``longest_wait`` at most), hold it (or go in as a guest) for the
        block."""
        holds_slot = self.enter(quick)
        try:
            yield
        finally:
            self.leave(holds_slot)

    def enter(self, quick=False):
        """Take a slot: at once if one is free and nobody waits, else at the back of the
        line. True if it holds a slot, False if it went in as a guest after `longest_wait`."""
        if self.inside < self.size and not self.waiting and not self.quick:
            self.inside += 1
            return True
        turn = gevent.event.Event()
        line = self.quick if quick else self.waiting
        line.append(turn)
        try:
            turn.wait(self.longest_wait)
        except BaseException:  # GreenletExit (a server stopping), Timeout, ...
            if turn.is_set():
                self.leave()  # handed a slot it will not use: to the next waiter
            else:
                line.remove(turn)
            raise
        # Whether the slot was handed over: the flag says, not wait()'s answer, which is
        # False when the timer fired after leave() set the flag but before the wake-up ran.
        if turn.is_set():
            return True
        line.remove(turn)
        self.guests += 1
        return False

    def leave(self, holds_slot=True):
        """Give the slot back: straight to the first waiter, quick ones first."""
        if not holds_slot:
            self.guests -= 1
            return
        self.inside -= 1
        while (self.quick or self.waiting) and self.inside < self.size:
            self.inside += 1
            (self.quick or self.waiting).popleft().set()

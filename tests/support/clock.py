"""A clock that moves only when the test turns it, for code that takes a `clock`."""

from datetime import datetime, timedelta


class Clock:
    """Returns `now` (seconds as a float, or a datetime) until `advance` moves it."""

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds) if isinstance(self.now, datetime) else seconds

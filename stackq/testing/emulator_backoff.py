"""The emulator's back-offs: which answers carry one, and which calls break one.

A back-off starts when the answer carrying it is produced, whether or not the answer's
filter lets the client see it (a filter without `.backoff` hides it; the API still
enforces it): a later call of the method from that IP arriving inside it is a violation.
"""

import random
from collections import Counter

from .emulator_query import ApiError


class Backoffs:
    """Back-off state of one emulator; `config` is its live configuration dict."""

    def __init__(self, config):
        self.config = config
        self.random = random.Random(0)
        self.windows = {}  # (ip, method): (produced, until, hidden)
        self.answered, self.sent, self.hidden = Counter(), Counter(), Counter()
        self.violations, self.hidden_violations = Counter(), Counter()

    def judge(self, ip, method, arrived):
        """Raise the API's error if a call that arrived at `arrived` breaks a back-off."""
        produced, until, hidden = self.windows.get((ip, method), (0.0, 0.0, False))
        if produced <= arrived < until:
            self.violations[method] += 1
            self.hidden_violations[method] += hidden
            raise ApiError(502, "throttle_violation", "Violation of backoff parameter")

    def seconds(self, method):
        """Seconds of back-off the answer of `method` being produced carries (0: none)."""
        config = self.config
        self.answered[method] += 1
        every, share = config["backoff_every"], config["backoff_probability"]
        if every > 0 and self.answered[method] % every == 0 or (
                share > 0 and self.random.random() < share):
            return max(config["backoff_seconds"], config["backoff"].get(method, 0))
        return config["backoff"].get(method, 0)

    def start(self, ip, method, now, seconds, shown):
        """An answer produced at `now` carries `seconds` of back-off, `shown` or filtered out."""
        self.sent[method] += 1
        self.hidden[method] += not shown
        self.windows[ip, method] = (now, now + seconds, not shown)

    def stats(self):
        return {"backoffs": dict(self.sent), "hidden_backoffs": dict(+self.hidden),
                "backoff_violations": dict(self.violations),
                "hidden_backoff_violations": dict(+self.hidden_violations)}

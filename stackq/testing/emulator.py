"""An offline Stack Exchange API v2.3: a real HTTP server on loopback, for tests and the demo.

Run standalone with ``python -m stackq.testing.emulator --port 8765`` (emulator_cli). This
module holds the state and the limits; the data is in emulator_data, searching in
emulator_query, each method's answer in emulator_methods, filters (built-ins, /filters/create)
in emulator_filters, back-offs (enforced even where a filter hides them) in emulator_backoff
and the HTTP server in emulator_http.
"""

import json
import random
import threading
import time
from collections import Counter, defaultdict, deque
from urllib.parse import urlsplit

from .emulator_backoff import Backoffs
from .emulator_data import (
    DATA_NOW,
    HOSTILE_DISPLAY_NAME,
    HOSTILE_QUESTION_IDS,
    HOSTILE_TITLES,
    pristine,
)
from .emulator_http import CONTROL_PREFIX, EmulatorHandler, EmulatorServer, Reply
from .emulator_methods import answer, fault_body, method_name, throttled
from .emulator_query import (
    ApiError,
    Query,
    bad_parameter,
    mutate,
    new_questions,
    public_question,
)

__all__ = ["DEFAULTS", "FAULT_MODES", "HOSTILE_DISPLAY_NAME", "HOSTILE_QUESTION_IDS",
           "HOSTILE_TITLES", "Emulator"]

FAULT_MODES = (None, "500", "503", "timeout", "garbage", "throttle", "reset", "truncated",
               "backoff_violation", "no_method")
# backoff: {method: seconds} on every answer of those methods; backoff_every N (or
# backoff_probability p): `backoff_seconds` on every Nth answer of each method (or on a
# share p of them). latency: seconds between a call's arrival and its answer.
DEFAULTS = {"max_rate": 30.0, "rate_window": 1.0, "ban_seconds": 30, "quota": 300,
            "keyed_quota": 10000, "backoff": {}, "backoff_every": 0, "backoff_probability": 0.0,
            "backoff_seconds": 1, "latency": 0.0}
_CASTS = {"max_rate": float, "rate_window": float, "ban_seconds": float, "quota": int,
          "keyed_quota": int, "backoff_every": int, "backoff_probability": float,
          "backoff_seconds": int, "latency": float}
_UNSET = object()


class Emulator:
    """The API on a free (or given) port; all state behind one lock."""

    def __init__(self, host="127.0.0.1", port=0):
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._thread = None
        self._server = EmulatorServer((host, port), EmulatorHandler)
        self._server.emulator = self
        self.host, self.port = self._server.server_address[:2]
        self._aliases = {}  # api_site_parameter and domain both name a site
        for api, (site, _) in pristine().items():
            self._aliases[api] = self._aliases[urlsplit(site["site_url"]).netloc] = api
        self.reset()

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}/2.3"

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"emulator:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving, cut open connections and in-flight timeouts, and join every thread."""
        self._wake.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.close_connections()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset(self):
        """Back to the initial data, config and counters; wakes requests held by a timeout."""
        with self._lock:
            self._wake.set()
            self._wake = threading.Event()
            self._sites = {api: (site, [dict(q) for q in questions])
                           for api, (site, questions) in pristine().items()}
            self._config = dict(DEFAULTS, backoff={})
            self._fault, self._fault_left = None, None
            self._requests, self._serial, self._bans_given = 0, 0, 0
            self._by_method, self._by_ip, self._quota_used = Counter(), Counter(), Counter()
            self._by_q = Counter()
            self._hits, self._bans = defaultdict(deque), {}
            self._in_flight, self._peak = Counter(), Counter()
            self._rate_violations, self._backoffs = Counter(), Backoffs(self._config)

    def configure(self, *, max_rate=_UNSET, rate_window=_UNSET, ban_seconds=_UNSET, quota=_UNSET,
                  keyed_quota=_UNSET, backoff=_UNSET, backoff_every=_UNSET,
                  backoff_probability=_UNSET, backoff_seconds=_UNSET, latency=_UNSET):
        """Change any subset of the limits (see DEFAULTS); backoff=None clears them all.

        backoff maps methods to seconds: {"search/advanced": 2}. Returns the whole config.
        """
        given = {k: v for k, v in locals().items() if k != "self" and v is not _UNSET}
        # Cast now, so a bad value from the control endpoint fails here, not in a later request.
        changes = {k: _CASTS[k](v) for k, v in given.items() if k != "backoff"}
        if "backoff" in given:
            methods = given["backoff"] or {}
            changes["backoff"] = {method_name(m): int(s) for m, s in methods.items()}
        with self._lock:
            self._config.update(changes)
            return dict(self._config, backoff=dict(self._config["backoff"]))

    def set_fault(self, mode, count=None):
        """The next `count` API requests (all, if None) fail in `mode`; mode None clears."""
        if mode not in FAULT_MODES:
            raise ValueError(f"fault mode must be one of {FAULT_MODES}")
        with self._lock:
            left = None if count is None else int(count)
            self._fault = None if left is not None and left <= 0 else mode
            self._fault_left = None if self._fault is None else left
            return {"mode": self._fault, "count": self._fault_left}

    def mutate(self, site, q, tagged=None, new=0, changed=0, removed=0, rescored=0):
        """Change one search's results; returns {"new", "changed", "removed", "rescored"} ids.

        changed: a new answer and an edit (activity moves); rescored: votes and views only
        (activity stays, as on the real sites); removed: deleted questions.
        """
        with self._lock:
            site_item, questions = self._sites[self._site_param(site)]
            self._serial += 1
            return mutate(questions, site_item["site_url"], q=q, tagged=tagged, new=new,
                          changed=changed, removed=removed, rescored=rescored,
                          serial=self._serial,
                          now=int(time.time()), protected=set(HOSTILE_QUESTION_IDS.values()))

    def retitle(self, site, question_id, title):
        """An author's edit of one question's title: its activity moves to now."""
        with self._lock:
            questions = self._sites[self._site_param(site)][1]
            item = next(it for it in questions if it["question_id"] == question_id)
            stamp = max(int(time.time()), max(it["last_activity_date"] for it in questions) + 1)
            item.update(title=title, last_activity_date=stamp, last_edit_date=stamp)

    def add_questions(self, site, count, tags, created=None, spacing=1):
        """Add `count` questions tagged `tags` (a list), the first created at `created` (unix
        seconds, default: a month before the data's "now"), then one every `spacing` seconds;
        returns their ids. Benchmarks build searches of a known size and overlap with it."""
        with self._lock:
            site_item, questions = self._sites[self._site_param(site)]
            self._serial += 1
            rng = random.Random(f"add|{self._serial}|{site}|{tags}")
            return new_questions(questions, site_item["site_url"], rng, count=int(count),
                                 tags=[str(t).lower() for t in tags], subject=str(tags[0]),
                                 first=int(created or DATA_NOW - 86400 * 30),
                                 spacing=int(spacing))

    def search(self, site, q=None, tagged=None, sort="activity", order="desc"):
        """The full ordered result of /search/advanced, as plain (not entity-encoded) items."""
        with self._lock:
            questions = self._sites[self._site_param(site)][1]
            found = Query.build(q, tagged, sort, order).run(questions)
            return [public_question(item, encode=False) for item in found]

    def stats(self):
        """Counts of API requests: all, by method, by client IP and by `q` (requests that
        carry one); back-offs sent; violations.

        violations = rate_violations (each one bans the IP) + backoff_violations, both by method;
        hidden_backoffs: back-offs the answer's filter left out, hidden_backoff_violations: the
        back-off violations of those; peak_in_flight: the most calls of each method the emulator
        was answering at once.
        """
        with self._lock:
            rate, backoff = dict(self._rate_violations), self._backoffs.stats()
            return {"requests": self._requests,
                    "violations": sum(rate.values()) + sum(backoff["backoff_violations"].values()),
                    "rate_violations": rate, **backoff, "bans": self._bans_given,
                    "peak_in_flight": dict(self._peak),
                    "by_method": dict(self._by_method), "by_ip": dict(self._by_ip),
                    "by_q": dict(self._by_q)}

    def control(self, verb, name, raw):
        """One /_emulator/ call: (HTTP status, JSON body). Never counted, faulted or throttled."""
        calls = {("GET", "stats"): lambda args: self.stats(),
                 ("POST", "reset"): lambda args: self.reset() or {"ok": True},
                 ("POST", "configure"): lambda args: self.configure(**args),
                 ("POST", "fault"): lambda args: self.set_fault(**args),
                 ("POST", "mutate"): lambda args: self.mutate(**args)}
        if (verb, name) not in calls:
            return 404, {"error": f"no control endpoint {verb} {CONTROL_PREFIX}{name}"}
        try:
            return 200, calls[verb, name](json.loads(raw or b"{}"))
        except (TypeError, ValueError, ApiError) as error:
            return 400, {"error": str(error)}

    def handle_api(self, ip, path, params):
        """One request under /2.3/: rate and fault on arrival; after `latency`, back-off, quota,
        then the method itself. A back-off starts when the answer carrying it is produced."""
        method, arrived = method_name(path), time.monotonic()
        with self._lock:
            self._requests += 1
            self._by_method[method] += 1
            self._by_ip[ip] += 1
            if params.get("q"):
                self._by_q[params["q"]] += 1
            try:
                self._check_rate(ip, arrived, method)
            except ApiError as error:
                return Reply(400, error.body())
            if self._fault is not None:
                return self._take_fault()
            latency = self._config["latency"]
            self._in_flight[method] += 1
            self._peak[method] = max(self._peak[method], self._in_flight[method])
        if latency > 0:
            time.sleep(latency)
        with self._lock:
            self._in_flight[method] -= 1
            now = time.monotonic()
            try:
                self._backoffs.judge(ip, method, arrived)
                quota_max, remaining = self._take_quota(ip, params.get("key"))
                wrapper, kind, chosen = answer(method, path, params, self._sites,
                                               self._site_param)
            except ApiError as error:
                return Reply(400, error.body())
            wrapper.update(quota_max=quota_max, quota_remaining=remaining)
            seconds = self._backoffs.seconds(method)
            if seconds:  # enforced even where the filter hides it, as the API does
                wrapper["backoff"] = seconds
            body = chosen.apply(wrapper, kind)
            if seconds:
                self._backoffs.start(ip, method, now, seconds, shown="backoff" in body)
            return Reply(200, body)

    def _check_rate(self, ip, now, method):
        if now < self._bans.get(ip, 0):
            raise throttled(self._bans[ip] - now)
        # Exact sliding window: every request of the last rate_window seconds, none older.
        window = self._hits[ip]
        window.append(now)
        while window[0] <= now - self._config["rate_window"]:
            window.popleft()
        if len(window) > self._config["max_rate"]:
            self._rate_violations[method] += 1
            self._bans_given += 1
            self._bans[ip] = now + self._config["ban_seconds"]
            window.clear()
            raise throttled(self._config["ban_seconds"])

    def _take_fault(self):
        mode = self._fault
        if self._fault_left is not None:
            self._fault_left -= 1
            if self._fault_left <= 0:
                self._fault, self._fault_left = None, None
        if mode in ("timeout", "reset"):
            return Reply(None, self._wake, mode)
        if mode == "truncated":  # a gzip stream cut short, its Content-Length saying so
            return Reply(200, {"items": [], "has_more": False, "quota_max": 300,
                               "quota_remaining": 299}, mode)
        return Reply(*fault_body(mode, self._config["ban_seconds"]))

    def _take_quota(self, ip, key):
        # Per IP (and key) and per UTC day, like the real API's.
        wall = int(time.time())
        bucket = (ip, key or "", wall // 86400)
        quota_max = self._config["keyed_quota" if key else "quota"]
        if self._quota_used[bucket] >= quota_max:
            raise throttled(86400 - wall % 86400)
        self._quota_used[bucket] += 1
        return quota_max, quota_max - self._quota_used[bucket]

    def _site_param(self, site):
        api = self._aliases.get((site or "").lower())
        if api is None:
            raise bad_parameter("site" if site else "site is required")
        return api


if __name__ == "__main__":
    from .emulator_cli import main

    main()

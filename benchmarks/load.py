"""Load on the real production stack: gunicorn with stackq's worker on production.ini,
PostgreSQL and Redis, wrk's connections split over a realistic mix, all at once.

Run: .venv/bin/python benchmarks/load.py [--seconds 60] [--connections 200] [--workers 2]
(needs wrk, PostgreSQL on 127.0.0.1:5432; a database and a redis-server of its own are made
for the run and dropped after.)

The mix (`MIX`), each part its own wrk with its share of the connections and `--latency`:
cached results pages 45% (one search, 18 pages: sizes 25/50/100, three sorts, pages 1-2),
the home page 10% (cached, but every new search drops it), the same results pages rendered
every time 10% (`Cache-Control: no-cache`), a static file 15%, `/status` 5% (never cached),
and the bare Pyramid view 15% as the yardstick. A thread saves a new search every two
seconds meanwhile. Every results page is cached before the clock starts (`warm_up`). Prints
each part's requests, errors and p50/p99/max, and p99 over the bare view's p99.

What made the cached pages' p99 seconds, found with per-part counters, py-spy and a census
of where each greenlet was parked during the run:
- A lock convoy on the connection pools. Under gevent, `threading.Condition.notify()` on a
  plain lock switched greenlets while holding it (`gevent_repair.notify_without_yield`), so
  every connection given back to redis-py's pool (and SQLAlchemy's) went round the whole
  event loop holding the pool's mutex while the others queued on it: Redis lookups of
  cached pages took 0.5-2 s and up to over 5 s, and followers of those lookups (the
  single-flight waiters) waited as long.
- A warm-up that left a dozen pages stale (storing an upstream page on demand bumps the
  search's generation), so the run began by rendering them all at once under full load.
- gunicorn building an access line for every request that nothing writes (about a tenth of
  each worker's time; see stackq/server/gunicorn.py).
What it is not: no request holds the loop for long (a 10 ms timer in each worker woke less
than 100 ms late 99% of the time, never 500 ms; a GC pause would show there too), the
new-search thread drops only the home page and its own, and the uncached renders are not
CPU hogs (a tenth of the workers' samples, /status another tenth). The time goes
to waiting for turns: a worker polls for I/O about once per 50 requests served (strace:
epoll_wait against recvfrom), so a request that waits on the database or Redis N times takes
N turns of every ready connection. The cheap parts take one turn, the bare view's p99; a
results render, the home page after a new search and /status take 5-15 turns, 1-3 s at 200
connections on two shared cores, and a cached page's waiters wait for its render right
after an invalidation. Admission control (stackq/server/admission.py) is the answer: with 16
requests inside the app per worker and the rest let in first come, first served, a turn is
16 requests long, not 100, so a render's waits are short; every request waits its turn at
the door instead, so the cheap parts' p99 rises to about the average wait (200 connections
over what the workers serve a second). Bounding only the renders (a gate under the cache
tween, cache hits and static files let by) was tried and is worse: the cheap parts' turns
stay long, and renders, home and /status took 2.5-3.3 s. Over 60 s, this machine, before
and after (two runs each, interleaved): slowest request 3.5 and 1.9 s, then 1.1 and 0.98 s;
p99 of uncached renders 2.5 and 1.0 s, then 0.68 and 0.61 s; /status 2.6 and 1.7 s, then 0.94
and 0.85 s; static 170 and 182 ms, then 308 and 316 ms. wrk opens each part's connections at
once, so a worker often takes all of one part (all of /status, or all the uncached renders
on one worker's 15 pooled connections); browsers' connections arrive spread out.
Then every request waited in one line, so a cached page or a static file (one turn, well
under a millisecond of work) waited as long as a render: p99 about the average wait, 0.2-0.3
s here. Now the app tells the gate which requests are quick (stackq/server/priority.py: static
files, pages the response cache answered lately in that process) and those are let in first;
the others wait up to the gate's quarter second and then go in without a slot, so they take
none from the quick line. Over 60 s, this machine, two runs each in turn with the code before
(40f43d3): requests 208k and 205k against 123k and 139k, cached p99 126 and 109 ms against 209
and 275, static 134 and 120 against 144 and 186, slowest 0.64 and 0.59 s against 0.80 and 0.77;
uncached renders and /status a quarter second later (p99 0.46-0.58 s). The bare view is in the
ordinary line (the gate cannot know it is cheap), so since then `p99/bare` compares the quick
parts with that line, not with the machine's best. Still over 100 ms: the quick parts' own
average wait, about 140 connections over the 3,400 requests a second the two workers serve
(pywsgi's parsing and writing are half of a worker's samples, py-spy).
On another machine of the same size (two cores) the same code gave cached p99 47-67 ms and
static 43-64 ms over five 60 s runs, where 40f43d3 gave 205 and 114 ms (cached) in runs taken
in turn; the spread between machines is as large as the change. The home page (a cached
page every new search drops) stayed about 0.22 s at p99 because after each drop its
requests waited a quarter of a second in the other line; a page the cache answered now stays
in the quick line while its search changes and renders once there, and the home page's p99
was 73, 75 and 201 ms in three runs (190 and 194 with only that change).
Local copies stored together used to expire together, so once a second each worker looked
up every cached page in Redis at once; they now end spread over the second half of their
ttl (stackq/cache/local.py). Over four interleaved pairs of 20 s runs the cached pages'
p99 over the bare view's fell in each pair (median about 1.8 to 1.5), within the run-to-run
spread of the absolute p99 on a shared machine; it is not what keeps p99 over 100 ms.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.harness import ROOT, Emulator, create_search, response_header  # noqa: E402
from tests.support.database import new_postgres_database  # noqa: E402
from tests.support.redis import RedisServer  # noqa: E402
from tests.support.serverproc import running_server  # noqa: E402

# part -> (share of the connections, paths, extra header)
MIX = {
    "cached": (0.45, "results", None),
    "home": (0.10, ["/"], None),
    "uncached": (0.10, "results", "Cache-Control: no-cache"),
    "static": (0.15, ["/static/stackq.css"], None),
    "status": (0.05, ["/status"], None),
    "bare": (0.15, ["/_bench/bare"], None),
}
LUA = """
paths = {%s}
i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format(nil, paths[i])
end
"""
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def production_ini(directory):
    with open(os.path.join(ROOT, "production.ini"), encoding="utf-8") as f:
        text = f.read()
    text = text.replace("[app:main]\n", "[app:main]\npyramid.includes = benchmarks.bare_view\n", 1)
    path = os.path.join(directory, "load.ini")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def gunicorn(ini, workers):
    def command(port):
        return [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "--paste", ini,
                "--worker-class", "stackq.server.gunicorn.WebSocketWorker",
                "--workers", str(workers),
                "--worker-connections", "10000", "--bind", f"127.0.0.1:{port}",
                "--no-control-socket", "--log-level", "warning"]
    return command


def millis(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def parse(out):
    found = {"requests": int(re.search(r"(\d+) requests in", out).group(1))}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                        out)
    found["errors"] = (int(errors.group(1)) if errors else 0) + (
        sum(map(int, sockets.groups())) if sockets else 0)
    for pct in ("50", "99"):
        found[f"p{pct}"] = millis(re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+\w+)", out).group(1))
    found["max"] = millis(re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+\w+)", out).group(1))
    return found


def run_mix(base_url, results, seconds, connections, directory):
    procs = {}
    for part, (share, paths, header) in MIX.items():
        paths = results if paths == "results" else paths
        script = os.path.join(directory, f"{part}.lua")
        with open(script, "w") as f:
            f.write(LUA % ", ".join(f'"{p}"' for p in paths))
        count = max(1, round(connections * share))
        cmd = ["wrk", "-t1", f"-c{count}", f"-d{seconds}s", "--latency", "--timeout", "10s",
               "-s", script, *(["-H", header] if header else []), base_url]
        procs[part] = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    return {part: parse(proc.communicate()[0]) for part, proc in procs.items()}


def warm_up(base_url, paths):
    """Every results page stored and cached before the clock starts.

    The first pass fetches the upstream pages on demand, and storing one bumps the search's
    generation, so pages cached earlier in that pass are stale: without a second pass the
    run began with a dozen pages rendering at once under full load, which is the cost of an
    invalidation (measured apart, see above), not of a cached page.
    """
    for _ in range(5):
        states = [response_header(base_url + path, "X-Cache") for path in paths]
        if all(state == "HIT" for state in states):
            return
    raise SystemExit(f"results pages not cached after five passes: {states}")


def saver(base_url, stop, made):
    """A few new searches meanwhile, as visitors would make them."""
    words = ["asyncio", "gevent", "redis", "sqlalchemy", "pyramid", "django", "flask", "numpy"]
    while not stop.wait(2.0):
        try:
            create_search(base_url, words[len(made) % len(words)] + f" {len(made)}")
            made.append(True)
        except OSError:
            made.append(False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    emulator = Emulator(host="127.0.0.1", port=0).start()
    emulator.configure(max_rate=10_000, quota=1_000_000)
    redis_server = RedisServer().start()
    try:
        with new_postgres_database() as db_url, tempfile.TemporaryDirectory() as directory:
            env = {"STACKQ_SQLALCHEMY_URL": db_url, "STACKQ_REDIS_URL": redis_server.url,
                   "STACKQ_API_URLS": emulator.base_url, "STACKQ_API_MAX_RATE": "1000",
                   "PYTHONPATH": ROOT,
                   # wrk's connections all come from 127.0.0.1: no cap per client.
                   "STACKQ_CLIENT_CONNECTIONS": "0"}
            ini = production_ini(directory)
            subprocess.run([os.path.join(os.path.dirname(sys.executable), "initialize_db"),
                            ini], check=True, capture_output=True, env={**os.environ, **env})
            with running_server(command=gunicorn(ini, args.workers), env=env) as server:
                search = create_search(server.url, "python").replace(server.url, "")
                results = [f"{search}?per_page={size}&sort={sort}&page={page}"
                           for size in (25, 50, 100) for sort in ("activity", "votes", "title")
                           for page in (1, 2)]
                warm_up(server.url, results)
                stop, made = threading.Event(), []
                thread = threading.Thread(target=saver, args=(server.url, stop, made))
                thread.start()
                started = time.monotonic()
                figures = run_mix(server.url, results, args.seconds, args.connections,
                                  directory)
                stop.set()
                thread.join()
                elapsed = time.monotonic() - started
    finally:
        redis_server.stop()
        emulator.stop()
    base = figures["bare"]["p99"]
    print(f"{args.connections} connections, {args.workers} workers, {elapsed:.0f} s; "
          f"{sum(made)} new searches saved, {made.count(False)} failed")
    print(f"{'part':10} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'p99/bare':>9}")
    for part, f in figures.items():
        print(f"{part:10} {f['requests']:9d} {f['errors']:7d} {f['p50']:8.2f} {f['p99']:8.2f} "
              f"{f['max']:8.1f} {f['p99'] / base:9.2f}")


if __name__ == "__main__":
    main()

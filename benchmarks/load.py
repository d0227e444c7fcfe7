"""Load on the real production stack: gunicorn with stackq's worker on production.ini,
PostgreSQL and Redis, wrk's connections split over a realistic mix, all at once.

Run: .venv/bin/python benchmarks/load.py [--seconds 60] [--connections 200] [--workers 2]
(needs wrk, PostgreSQL on 127.0.0.1:5432; a database and a redis-server of its own are made
for the run and dropped after.)

The mix, each part its own wrk with its share of the connections and `--latency`: cached
results pages (sizes and sorts), the home page, the same results pages rendered every time
(`Cache-Control: no-cache`), a static file, `/status`, and the bare Pyramid view as the
yardstick. A thread saves a new search every two seconds meanwhile. Prints each part's
requests, errors and p50/p99/max, and p99 over the bare view's p99.
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

from benchmarks.harness import ROOT, Emulator, create_search  # noqa: E402
from tests.serverproc import running_server  # noqa: E402
from tests.support.database import new_postgres_database  # noqa: E402
from tests.support.redis import RedisServer  # noqa: E402

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
                "--worker-class", "stackq.gunicorn.WebSocketWorker", "--workers", str(workers),
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
                   "PYTHONPATH": ROOT}
            ini = production_ini(directory)
            subprocess.run([os.path.join(os.path.dirname(sys.executable), "initialize_db"),
                            ini], check=True, capture_output=True, env={**os.environ, **env})
            with running_server(command=gunicorn(ini, args.workers), env=env) as server:
                search = create_search(server.url, "python").replace(server.url, "")
                results = [f"{search}?per_page={size}&sort={sort}&page={page}"
                           for size in (25, 50, 100) for sort in ("activity", "votes", "title")
                           for page in (1, 2)]
                for path in results:  # stored once: "uncached" renders from the database
                    subprocess.run(["curl", "-s", "-o", "/dev/null", server.url + path])
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

"""A process calling the API through `stackq.stackexchange.fetch`, for tests and benchmarks.

    python -m tests.support.access_worker --threads 8 --calls 20 [--same] [--start-at T]
        [--seconds S] [--method search/advanced --q python --totals]

Settings come from STACKQ_* variables, as in any script. Prints one JSON line: calls that
succeeded, errors by type, and answers per mirror.
"""

import argparse
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter

from stackq.stackexchange import StackExchangeError, default_access, fetch
from stackq.stackexchange.totals import count_results


def parse_args(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--calls", type=int, default=0, help="calls per thread")
    parser.add_argument("--seconds", type=float, default=0, help="keep calling this long")
    parser.add_argument("--method", default="info")
    parser.add_argument("--site", default="stackoverflow")
    parser.add_argument("--same", action="store_true", help="every call identical")
    parser.add_argument("--start-at", type=float, default=0, help="wall-clock time to start")
    parser.add_argument("--tag", default="w", help="makes this process's calls distinct")
    parser.add_argument("--times", action="store_true", help="report when each call ended")
    parser.add_argument("--q", help="the q parameter of each call")
    parser.add_argument("--totals", action="store_true",
                        help="every other call counts results (the total filter)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    ok, errors, mirrors, times = Counter(), Counter(), Counter(), []
    lock = threading.Lock()
    time.sleep(max(0.0, args.start_at - time.time()))
    stop_at = time.monotonic() + args.seconds if args.seconds else None

    def work(thread):
        done = 0
        while (args.calls and done < args.calls) or (stop_at and time.monotonic() < stop_at):
            params = {} if args.same else {"nonce": f"{args.tag}-{thread}-{done}"}
            if args.q:
                params["q"] = args.q
            try:
                if args.totals and done % 2:
                    count_results(default_access(), args.method, args.site, **params)
                    answer = None
                else:
                    answer = fetch(args.method, site=args.site, **params)
            except StackExchangeError as exc:
                with lock:
                    errors[type(exc).__name__] += 1
            except Exception as exc:  # not one of stackq's typed errors: the test fails on it
                with lock:
                    errors[f"untyped {type(exc).__name__}: {exc}"] += 1
            else:
                with lock:
                    ok["calls"] += 1
                    if answer is not None:
                        mirrors[answer.mirror] += 1
                    times.append(round(time.time(), 4))
            done += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = {"ok": ok["calls"], "errors": dict(errors), "mirrors": dict(mirrors)}
    if args.times:
        report["times"] = times
    print(json.dumps(report), flush=True)


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Time for every worker to import stackq before the common start.
STARTUP_SECONDS = 2.0


def start_workers(processes, env, *args, start_in=STARTUP_SECONDS):
    """Start `processes` workers that begin calling together; returns the Popen objects."""
    start_at = time.time() + start_in
    full_env = {**os.environ, "PYTHONPATH": ROOT, **env}
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.access_worker", "--start-at", str(start_at),
             "--tag", f"p{i}", *map(str, args)],
            cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(processes)
    ]


def results(procs, timeout=120):
    """Each worker's JSON line, with its log (stderr) under "log"; fails on a crashed worker."""
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"worker exited with {proc.returncode}:\n{stderr}")
        out.append({**json.loads(stdout.strip().splitlines()[-1]), "log": stderr})
    return out


if __name__ == "__main__":
    main()

"""Memory over mixed traffic, and a cached page under hostile clients, on one web process.

1. N mixed requests (pages, searches saved through the form, tasks queued and cancelled
   through the JSON API, WebSockets opened and closed), then 9 × N more, against one
   `pserve` on the emulator, its RSS sampled after every N: prints RSS after N and after
   10 × N and their ratio. Target: within 10 % (1.10).
2. The median latency of a cached page, quiet and while 20 slow uploads (100 bytes a
   second, half declaring 100 KB, half 60 KB) and one 16 MB WebSocket frame are in flight:
   prints the ratio. Target: within 2× of the quiet median. The page is asked for at a
   steady pace and each answer timed from when it was due, so a stall shows in the median
   (timed from when it was sent, one stall is one slow answer).

    .venv/bin/python benchmarks/soak.py [--requests N] [--threads T] [--toolbar]

`--toolbar` adds pyramid_debugtoolbar, as development.ini (`make run`, `make demo`) has it.
"""

import argparse
import contextlib
import http.client
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.notify import rss_mb  # noqa: E402
from stackq.testing.emulator import Emulator  # noqa: E402
from tests.support.hostile import (  # noqa: E402
    OPCODE_BINARY,
    OPCODE_CLOSE,
    client_frame,
    connect,
    frame_header,
    open_websocket,
    upload_head,
)
from tests.support.searches import save_search_through  # noqa: E402
from tests.support.stack import open_stack, running_web  # noqa: E402

SEARCHES = 40  # distinct searches the form saves, then saves again
SLOW_UPLOADS = 20
# Half over the 64 KB limit (refused on their header), half under it (read before the
# admission gate, within body_timeout).
UPLOAD_BYTES = (100_000, 60_000)
PACE = 0.005  # seconds between the cached page's requests
WINDOW = 2.0  # seconds of them


def fetch(url, data=None, headers=None, method=None):
    """The status of one request (an HTTP error's too)."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
            return answer.status, answer
    except urllib.error.HTTPError as error:
        error.read()
        return error.code, error


class Mix:
    """The mixed requests, each call the next one of a fixed rotation."""

    def __init__(self, server, results_url):
        self.server = server
        self.results_url = results_url
        self.counter = itertools.count()
        self.statuses = {}
        self.lock = threading.Lock()

    def one(self, _=None):
        i = next(self.counter)
        kind, status = self.request(i)
        with self.lock:
            self.statuses[kind, status] = self.statuses.get((kind, status), 0) + 1

    def request(self, i):
        url = self.server.url
        step = i % 10
        if step < 5:  # pages: cached and not
            path = ["/", "/queries/new", "/tasks", "/status",
                    f"{self.results_url}?page={i % 2 + 1}&sort=votes"][step]
            return "page", fetch(url + path)[0]
        if step < 7:  # a search saved through the form (the same 40 again and again)
            save_search_through(url, f"soak {i % SEARCHES}")  # raises unless it saved
            return "search", 303
        if step < 9:  # a task queued and cancelled through the JSON API
            body = json.dumps({"q": f"soak {i}", "site": "stackoverflow", "pages": 1,
                               "delay": 3600}).encode()
            status, answer = fetch(url + "/api/tasks", body,
                                   {"Content-Type": "application/json"})
            if status == 202:
                fetch(answer.headers["Location"], method="DELETE")
            return "task", status
        with open_websocket(self.server.port) as sock:  # a page opened and left
            sock.sendall(client_frame(OPCODE_CLOSE, (1001).to_bytes(2, "big")))
            sock.recv(64)
        return "socket", 101


def run_mix(mix, count, threads):
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(mix.one, range(count)))


def soak(server, mix, requests, threads):
    pid = server.proc.pid
    print(f"Soak, one pserve process, {threads} clients at once; RSS (MB):")
    print(f"  at start {rss_mb(pid):.0f}")
    after = []
    for round_number in range(1, 11):
        started = time.monotonic()
        run_mix(mix, requests, threads)
        after.append(rss_mb(pid))
        print(f"  after {round_number * requests:>6} requests: {after[-1]:.0f} "
              f"({requests / (time.monotonic() - started):.0f} requests/s)")
    print(f"  answers: {dict(sorted(mix.statuses.items()))}")
    print(f"  RSS after {10 * requests} / after {requests}: {after[-1] / after[0]:.3f} "
          "(target <= 1.10)")


def median_latency(server, path):
    """The median latency of GETs of `path` due every PACE seconds for WINDOW seconds on one
    keep-alive connection, each timed from when it was due, in ms."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    took = []
    started = time.perf_counter()
    try:
        for due in (started + PACE * k for k in range(int(WINDOW / PACE))):
            time.sleep(max(0.0, due - time.perf_counter()))
            connection.request("GET", path)
            answer = connection.getresponse()
            answer.read()
            took.append(time.perf_counter() - due)
            if answer.status != 200 or answer.headers.get("X-Cache") != "HIT":
                raise RuntimeError(f"{path}: {answer.status} {answer.headers.get('X-Cache')}")
    finally:
        connection.close()
    return statistics.median(took) * 1000, max(took) * 1000


def slow_upload(server, stop, length):
    with contextlib.suppress(OSError), connect(server.port) as sock:
        sock.sendall(upload_head(server.port, length))
        while not stop.wait(1):
            sock.sendall(b"q" * 100)


def big_frame(server, stop):
    with contextlib.suppress(OSError), open_websocket(server.port) as sock:
        sock.sendall(frame_header(OPCODE_BINARY, 16 << 20))
        chunk = b"\0" * 65536
        for _ in range(256):  # 16 MB, as long as the server takes it
            if stop.is_set():
                break
            sock.sendall(chunk)


def latency_under_attack(server, results_path):
    fetch(server.url + results_path)  # cached again, after the mix's saves
    quiet = median_latency(server, results_path)
    stop = threading.Event()
    attackers = [threading.Thread(target=slow_upload,
                                  args=(server, stop, UPLOAD_BYTES[i % len(UPLOAD_BYTES)]))
                 for i in range(SLOW_UPLOADS)]
    attackers.append(threading.Thread(target=big_frame, args=(server, stop)))
    for thread in attackers:
        thread.start()
    try:
        time.sleep(0.2)  # all of them connected and sending
        loaded = median_latency(server, results_path)
    finally:
        stop.set()
        for thread in attackers:
            thread.join()
    print(f"A cached page, a GET every {PACE * 1000:g} ms for {WINDOW:g} s: quiet median "
          f"{quiet[0]:.1f} ms (max {quiet[1]:.0f}); with {SLOW_UPLOADS} slow uploads and a "
          f"16 MB frame in flight median {loaded[0]:.1f} ms (max {loaded[1]:.0f}): "
          f"{loaded[0] / quiet[0]:.2f}x (target <= 2)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="N")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--toolbar", action="store_true")
    args = parser.parse_args()
    settings = {"stackq.api.max_rate": "1000"}
    if args.toolbar:
        settings["pyramid.includes"] = "pyramid_debugtoolbar"
    emulator = Emulator(host="127.0.0.1", port=0).start()
    emulator.configure(max_rate=10_000, quota=10_000_000)
    try:
        with tempfile.TemporaryDirectory(prefix="stackq-soak-") as tmp, \
                open_stack(Path(tmp), emulator.base_url, **settings) \
                as stack, running_web("pserve", stack.ini) as server:
            results_url = save_search_through(server.url, "soak")[0]
            results_path = results_url.replace(server.url, "")
            soak(server, Mix(server, results_path), args.requests, args.threads)
            latency_under_attack(server, results_path)
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()

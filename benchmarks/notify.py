"""Live notices and the refresher, measured in one run.

1. N WebSocket clients (default 2,000; spread over --client-processes, 4) on ONE web
   process (pserve, or gunicorn's gevent worker with --server gunicorn): publish a notice,
   print p50/p99 of its delivery to every client and the server's RSS before and after the
   clients connected. Targets: p99 < 250 ms and RSS < 300 MB at 10,000 clients.
2. A refresh cycle over S saved searches (default 1,000) against the emulator, at the
   allowed rate R (default 25 calls/s): print cycle time / (API calls / R), the share of
   the best possible time the cycle took. Target: <= 1.2.

    .venv/bin/python benchmarks/notify.py [--clients N] [--searches S] [--rate R]
                                          [--server pserve|gunicorn] [--client-processes P]
                                          (0 skips a part)
"""

import argparse
import base64
import multiprocessing
import os
import resource
import select
import socket
import statistics
import struct
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from stackq import models  # noqa: E402
from stackq.infra import registry  # noqa: E402
from stackq.infra.clock import utcnow  # noqa: E402
from stackq.infra.pubsub import publish  # noqa: E402
from stackq.infra.settings import load_settings  # noqa: E402
from stackq.models import SavedSearch, Site  # noqa: E402
from stackq.notify import query_updated  # noqa: E402
from stackq.refresh.cycle import RefreshCycle  # noqa: E402
from stackq.searches.ingest import store_page  # noqa: E402
from stackq.stackexchange import api_access_from_settings  # noqa: E402
from stackq.testing.emulator import Emulator  # noqa: E402
from tests.support.stack import open_stack, running_web  # noqa: E402

ROUNDS = 3


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def serving_pid(server, kind):
    """pserve serves in its own process; gunicorn in its one worker."""
    if kind == "pserve":
        return server.proc.pid
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text()
    return int(children.split()[0])


def open_socket(host, port):
    """A WebSocket opened with a plain socket (no event loop), left non-blocking; with the
    bytes that came after the handshake's answer."""
    sock = socket.create_connection((host, port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\nOrigin: http://{host}:{port}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        head += chunk
    head, _, rest = head.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.decode(errors="replace"))
    sock.setblocking(False)
    return sock, rest


def text_frame_in(buffer):
    """(whether `buffer` holds a whole text frame, the bytes after the frames read): server
    frames are unmasked; pings before it are skipped."""
    while len(buffer) >= 2:
        first, second = buffer[0], buffer[1]
        length, start = second & 0x7F, 2
        if length == 126:
            length, start = (struct.unpack("!H", buffer[2:4])[0] if len(buffer) >= 4
                             else None), 4
        elif length == 127:
            length, start = (struct.unpack("!Q", buffer[2:10])[0] if len(buffer) >= 10
                             else None), 10
        if length is None or len(buffer) < start + length:
            return False, buffer
        buffer = buffer[start + length:]
        if first & 0x0F == 0x1:
            return True, buffer
        if first & 0x0F == 0x8:
            raise ConnectionError("closed by the server")
    return False, buffer


def client_share(host, port, count, pipe, cpus=None):
    """One client process: open `count` sockets, then per round say it is ready and send back
    when (perf_counter: CLOCK_MONOTONIC, the same in every process) each socket got the
    notice. One epoll over raw sockets, no event loop and no task per socket: 10,000 asyncio
    readers on the server's two cores measured themselves more than the server."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    sockets = [open_socket(host, port) for _ in range(count)]
    pipe.send("open")
    poller = select.epoll(len(sockets))
    by_fd = {sock.fileno(): sock for sock, _ in sockets}
    buffers = {sock.fileno(): rest for sock, rest in sockets}
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    while pipe.recv() == "round":
        arrived = {}
        pipe.send("armed")
        deadline = time.monotonic() + 60  # a notice lost: the round ends, short of it
        while len(arrived) < len(by_fd) and time.monotonic() < deadline:
            for fd, _ in poller.poll(30):
                if fd in arrived:
                    by_fd[fd].recv(65536)  # a ping after the notice
                    continue
                now = time.perf_counter()
                done, buffers[fd] = text_frame_in(buffers[fd] + by_fd[fd].recv(65536))
                if done:
                    arrived[fd] = now
        pipe.send(list(arrived.values()))
    for sock in by_fd.values():
        sock.close()


def fan_out(server, kind, redis_client, clients, processes, pin):
    host, port = "127.0.0.1", server.port
    pid = serving_pid(server, kind)
    client_cpus = None
    if pin:  # the server's process on the first core, the clients on the others
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(pid, cpus[:1])
        client_cpus = set(cpus[1:])
    # Warm up: one socket starts the process's subscriber; then measure the idle process.
    open_socket(host, port)[0].close()
    time.sleep(1.0)
    before = rss_mb(pid)
    context = multiprocessing.get_context("fork")
    pipes, workers = [], []
    for number in range(processes):
        ours, theirs = context.Pipe()
        share = clients // processes + (number < clients % processes)
        worker = context.Process(target=client_share,
                                    args=(host, port, share, theirs, client_cpus))
        worker.start()
        pipes.append(ours)
        workers.append(worker)
    for pipe in pipes:
        assert pipe.recv() == "open"
    time.sleep(1.0)  # every socket registered with the hub
    after = rss_mb(pid)
    delays = []
    for round_number in range(ROUNDS):
        for pipe in pipes:
            pipe.send("round")
        for pipe in pipes:
            assert pipe.recv() == "armed"
        sent = time.perf_counter()
        publish(redis_client, query_updated(round_number, "bench", "stackoverflow", 1, 0, 0,
                                            utcnow()))
        for pipe in pipes:
            delays += [arrived - sent for arrived in pipe.recv()]
    for pipe in pipes:
        pipe.send("done")
    for worker in workers:
        worker.join(30)
    return before, after, delays


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench_fan_out(stack, kind, clients, processes, pin):
    # Every client comes from 127.0.0.1: no cap per client.
    with running_web(kind, stack.ini, server_settings={"client_connections": "0"}) as server:
        before, after, delays = fan_out(server, kind, stack.redis, clients, processes, pin)
    ms = [d * 1000 for d in delays]
    where = "the server on a core of its own, " if pin else ""
    print(f"WebSocket fan-out, {kind}, one web process, {clients} clients in {processes} "
          f"processes, {where}{ROUNDS} notices:")
    print(f"  delivered {len(ms)} of {clients * ROUNDS}; p50 {statistics.median(ms):.1f} ms, "
          f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms (target p99 < 250 ms)")
    print(f"  server RSS {before:.1f} MB before, {after:.1f} MB with the clients "
          f"({(after - before) * 1024 / clients:.1f} KB per client; target < 300 MB at 10,000)")


def search_texts(emulator, count):
    """`count` distinct searches with results: a topic word and a word of its titles."""
    texts, seen = [], set()
    for item in emulator.search("stackoverflow", q=None, tagged="python;javascript;sql;linux"):
        words = [w.strip("?:(),.'\"").lower() for w in item["title"].split()]
        words = [w for w in words if w.isalpha() and len(w) > 3]
        for first, second in zip(words, words[1:], strict=False):
            text = f"{first} {second}"
            if text not in seen:
                seen.add(text)
                texts.append(text)
                if len(texts) == count:
                    return texts
    return texts


def seed_searches(stack, emulator, count):
    """`count` saved searches with page 1 (activity) stored, straight from the emulator."""
    factory = models.get_session_factory(stack.engine)
    with factory() as dbsession, dbsession.begin():
        site = dbsession.query(Site).filter_by(api_site_parameter="stackoverflow").one()
        for text in search_texts(emulator, count):
            search = SavedSearch(site=site, q=text, tagged="", total=0, created_at=utcnow(),
                                 refreshed_at=utcnow(), total_at=utcnow())
            dbsession.add(search)
            dbsession.flush()
            found = emulator.search("stackoverflow", q=text)
            answer = types.SimpleNamespace(items=found[:100], has_more=len(found) > 100)
            store_page(dbsession, search, "activity", "desc", 1, answer)
        return dbsession.query(SavedSearch).count()


def bench_refresh(stack, emulator, searches, rate):
    seeded = seed_searches(stack, emulator, searches)
    emulator.configure(max_rate=max(30, rate * 1.5))
    settings = load_settings({**stack.raw_settings, "stackq.api.max_rate": str(rate)},
                             environ={})[registry.SETTINGS]
    api = api_access_from_settings(settings, redis=stack.redis)
    started = time.monotonic()
    report = RefreshCycle(stack.session_factory, api, workers=4).run()
    took = time.monotonic() - started
    floor = report.calls / rate
    violations = emulator.stats()["violations"]
    print(f"Refresh cycle, {seeded} saved searches, allowed rate {rate:g} calls/s:")
    print(f"  {report.searches} refreshed, {report.errors} errors, {report.calls} API calls, "
          f"{violations} rate violations at the emulator")
    print(f"  cycle {took:.1f} s / (calls / rate = {floor:.1f} s) = {took / floor:.2f} "
          "(target <= 1.2)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--server", choices=("pserve", "gunicorn"), default="pserve")
    parser.add_argument("--client-processes", type=int, default=4,
                        help="processes the clients are spread over")
    parser.add_argument("--pin", action="store_true",
                        help="the web process on the first core and the clients on the others,"
                             " as with the clients on other hosts")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Both ends of every socket live on this machine; the server inherits the limit.
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    emulator = Emulator(host="127.0.0.1", port=0).start()
    emulator.configure(quota=10_000_000)
    try:
        with tempfile.TemporaryDirectory(prefix="stackq-bench-") as tmp, \
                open_stack(Path(tmp), emulator.base_url) as stack:
            if args.clients:
                bench_fan_out(stack, args.server, args.clients, args.client_processes,
                              args.pin)
            if args.searches:
                bench_refresh(stack, emulator, args.searches, args.rate)
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()

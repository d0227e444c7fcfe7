"""Where the slow tail of a cached page under gunicorn comes from: the same server run with
one change at a time, each measured with `wrk --latency` in one run.

Run: .venv/bin/python benchmarks/tail_latency.py [--seconds 10] [--connections 200]

Variants (a gunicorn config file applies each in the workers):
- `as shipped`: stackq's worker, 2 workers;
- `accept 1`: each worker accepts one connection per turn of its event loop, as gevent's
  pywsgi does under more than one worker (`wsgi.multiprocess`); stackq's worker takes up to 100;
- `greedy`: a keep-alive connection does not yield to the other greenlets between two of its
  requests (stackq's handler does);
- `no gc`: the cyclic garbage collector off in the workers (GC pauses out of the picture);
- `1 worker`: one process, nothing to balance.
For each: requests/s, p50/p99/max, and how wrk's connections ended up
spread over the workers.
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.harness import ROOT, Emulator, create_search  # noqa: E402
from benchmarks.load import millis, production_ini  # noqa: E402
from tests.support.redis import RedisServer  # noqa: E402
from tests.support.serverproc import running_server  # noqa: E402

HOOKS = {
    "as shipped": "",
    "accept 1": """
def post_fork(server, worker):
    from stackq.server.gunicorn import AcceptingServer
    def one(self):
        self.max_accept = 1  # gevent's own choice when wsgi.multiprocess is set
    AcceptingServer.set_max_accept = one
""",
    "greedy": """
def post_fork(server, worker):
    import gevent.pywsgi
    from stackq.server.handler import StackqWebSocketHandler
    # No turn for the others between two requests of one keep-alive connection.
    StackqWebSocketHandler.handle_one_request = gevent.pywsgi.WSGIHandler.handle_one_request
""",
    "no gc": """
def post_worker_init(worker):
    import gc
    gc.disable()
""",
}


def gunicorn(ini, config, workers):
    def command(port):
        return [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "--paste", ini,
                "--worker-class", "stackq.server.gunicorn.WebSocketWorker",
                "--workers", str(workers),
                "--worker-connections", "10000", "--bind", f"127.0.0.1:{port}",
                "--no-control-socket", "--log-level", "warning", "-c", config]
    return command


def spread(port, pids):
    """Established connections to `port`, per server process."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    counts = collections.Counter(int(p) for p in re.findall(r"pid=(\d+)", out))
    return sorted((counts[p] for p in pids), reverse=True)


def worker_pids(master):
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def measure(url, port, master, seconds, connections):
    wrk = subprocess.Popen(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                            "--timeout", "10s", url], stdout=subprocess.PIPE, text=True)
    time.sleep(seconds / 2)
    shares = spread(port, worker_pids(master))
    out = wrk.communicate()[0]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = millis(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))
    p99 = millis(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))
    worst = millis(re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+\w+)", out).group(1))
    return rate, p50, p99, worst, shares


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--path", default="results", help="'results', or a path such as "
                        "/static/stackq.css")
    args = parser.parse_args()
    emulator = Emulator(host="127.0.0.1", port=0).start()
    redis_server = RedisServer().start()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as directory:
            env = {"STACKQ_SQLALCHEMY_URL": f"sqlite:///{directory}/tail.sqlite",
                   "STACKQ_REDIS_URL": redis_server.url, "STACKQ_API_URLS": emulator.base_url,
                   "PYTHONPATH": ROOT,
                   # wrk's connections all come from 127.0.0.1: no cap per client.
                   "STACKQ_CLIENT_CONNECTIONS": "0"}
            ini = production_ini(directory)
            subprocess.run([os.path.join(os.path.dirname(sys.executable), "initialize_db"),
                            ini], check=True, capture_output=True, env={**os.environ, **env})
            variants = [(name, hook, 2) for name, hook in HOOKS.items()]
            variants.append(("1 worker", "", 1))
            for name, hook, workers in variants:
                config = os.path.join(directory, "conf.py")
                with open(config, "w") as f:
                    f.write(hook)
                with running_server(command=gunicorn(ini, config, workers), env=env) as server:
                    path = args.path
                    if path == "results":
                        path = create_search(server.url, "python").replace(server.url, "")
                    url = server.url + path
                    subprocess.run(["curl", "-s", "-o", "/dev/null", url], check=True)
                    rows.append((name, *measure(url, server.port, server.proc.pid,
                                                args.seconds, args.connections)))
    finally:
        redis_server.stop()
        emulator.stop()
    base = rows[0][3]
    print(f"{args.path}, {args.connections} connections, {args.seconds} s each")
    print(f"{'variant':11} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'p99/shipped':>11}  connections per worker")
    for name, rate, p50, p99, worst, shares in rows:
        print(f"{name:11} {rate:8.0f} {p50:8.2f} {p99:8.2f} {worst:8.0f} {p99 / base:11.2f}"
              f"  {shares}")


if __name__ == "__main__":
    main()

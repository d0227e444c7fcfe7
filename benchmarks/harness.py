"""Shared pieces of the benchmarks: the emulator, a real server process, and wrk."""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from stackq.testing.emulator import Emulator  # noqa: E402
from tests.support.searches import save_search_through  # noqa: E402
from tests.support.serverproc import running_server  # noqa: E402


def bench_ini(directory, includes="benchmarks.bare_view"):
    """development.ini without the toolbar and with the yardstick view."""
    with open(os.path.join(ROOT, "development.ini"), encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"pyramid\.includes =\n(    .*\n)+", f"pyramid.includes = {includes}\n", text)
    text = text.replace("pyramid.reload_templates = true", "pyramid.reload_templates = false")
    # Access and debug lines would measure the terminal, not stackq.
    text = text.replace("level = DEBUG", "level = WARN").replace("level = INFO", "level = WARN")
    # wrk's connections all come from 127.0.0.1: no cap per client.
    text = text.replace("[server:main]\n", "[server:main]\nclient_connections = 0\n", 1)
    path = os.path.join(directory, "bench.ini")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


@contextlib.contextmanager
def stackq_server(env_extra=None):
    """An emulator and stackq served by the real `pserve`, on a fresh SQLite database."""
    emulator = Emulator(host="127.0.0.1", port=0).start()
    directory = tempfile.mkdtemp(prefix="stackq-bench-")
    try:
        ini = bench_ini(directory)
        env = {
            "STACKQ_SQLALCHEMY_URL": f"sqlite:///{directory}/bench.sqlite",
            "STACKQ_API_URLS": emulator.base_url,
            "STACKQ_API_MAX_RATE": "1000",
            "PYTHONPATH": ROOT,
            **(env_extra or {}),
        }
        bin_dir = os.path.dirname(sys.executable)
        subprocess.run([os.path.join(bin_dir, "initialize_db"), ini], check=True,
                       env={**os.environ, **env}, capture_output=True)
        emulator.configure(max_rate=10_000, quota=1_000_000)
        with running_server(ini, env=env) as server:
            yield server, emulator
    finally:
        emulator.stop()
        shutil.rmtree(directory, ignore_errors=True)


def create_search(base_url, q, site="stackoverflow"):
    """Save a search as a browser would; returns its results URL."""
    return save_search_through(base_url, q, site)[0]


def get(url):
    with urllib.request.urlopen(url) as answer:
        return answer.read()


def response_header(url, name, headers=None):
    """One GET of `url`; the value of its response header `name`."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as answer:
        answer.read()
        return answer.headers.get(name)


def wrk(url, seconds=5, connections=20, threads=2, headers=()):
    """Requests per second wrk measures against `url`, sending `headers` ("Name: value")."""
    if not shutil.which("wrk"):
        raise SystemExit("benchmarks need wrk: apt-get install wrk")
    header_args = [arg for header in headers for arg in ("-H", header)]
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", *header_args, url],
        check=True, capture_output=True, text=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} failed requests\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

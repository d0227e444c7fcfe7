"""Run the real ``pserve`` in a subprocess for end-to-end tests."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0


def free_port():
    """A TCP port nobody listens on right now (racy, but fine for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pserve_path():
    # Beside the running interpreter, so any venv (or tox env) uses its own.
    return str(Path(sys.executable).parent / "pserve")


@dataclass
class RunningServer:
    url: str
    port: int
    proc: subprocess.Popen
    log_path: Path

    def output(self):
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")


class ServerError(RuntimeError):
    pass


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP status means the app is up and routing
    except OSError:  # refused, reset, timed out: not listening yet
        return False


def _wait_ready(server, url, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise ServerError(
                f"pserve exited with {server.proc.returncode} before serving:\n" + server.output()
            )
        if _answers(url):
            return
        time.sleep(0.1)
    raise ServerError(f"pserve did not answer {url} in {timeout} s:\n" + server.output())


def stop(proc, timeout=STOP_TIMEOUT):
    """SIGTERM the process group, SIGKILL it if still alive after timeout."""
    if proc.poll() is not None:
        return proc.returncode
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()


@contextlib.contextmanager
def running_server(ini_path=None, port=None, env=None, args=(), ready_path="/", command=None,
                   cwd=None):
    """Start ``pserve ini_path http_port=PORT *args``; yield a RunningServer.

    ``command(port)``, when given, returns the command line to run instead
    (e.g. ``make run PORT=…`` or gunicorn).

    ``env`` is added to (not replacing) this process's environment. Output
    goes to a file, not a pipe, so a chatty server can never block on a full
    pipe; ``.output()`` reads it.
    """
    port = port or free_port()
    full_env = {**os.environ, **(env or {})}
    cmd = command(port) if command else [pserve_path(), str(ini_path), f"http_port={port}", *args]
    with tempfile.TemporaryDirectory(prefix="stackq-pserve-") as tmp:
        log_path = Path(tmp) / "pserve.log"
        with open(log_path, "wb") as log_file:
            # Own process group: stop() reaches pserve's children (--reload).
            proc = subprocess.Popen(
                cmd,
                env=full_env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = RunningServer(f"http://127.0.0.1:{port}", port, proc, log_path)
        try:
            _wait_ready(server, server.url + ready_path, START_TIMEOUT)
            yield server
        finally:
            stop(proc)

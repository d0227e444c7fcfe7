"""production.ini: settings from the environment, served by gunicorn's gevent worker."""

import configparser
import logging
import os
import subprocess
import sys
import urllib.request

import pytest

from tests.support.serverproc import free_port, running_server
from tests.support.waiting import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRODUCTION_INI = os.path.join(ROOT, "production.ini")
BIN = os.path.dirname(sys.executable)


def gunicorn(port, *args):
    return [os.path.join(BIN, "gunicorn"), "--paste", PRODUCTION_INI,
            "--worker-class", "stackq.server.gunicorn.WebSocketWorker",
            "--workers", "2", "--bind", f"127.0.0.1:{port}", "--no-control-socket", *args]


def serve_production(tmp_path, database_url, redis_url, upstream, command=gunicorn):
    if database_url.startswith("sqlite"):
        # Its own file: the suite's SQLite database is held by this process.
        database_url = f"sqlite:///{tmp_path}/production.sqlite"
    # production.ini turns accounts on: every process building the app needs the secret.
    env = {"STACKQ_SQLALCHEMY_URL": database_url, "STACKQ_REDIS_URL": redis_url,
           "STACKQ_API_URLS": upstream.base_url, "STACKQ_SESSION_SECRET": "s" * 48}
    subprocess.run([os.path.join(BIN, "initialize_db"), PRODUCTION_INI], check=True,
                   capture_output=True, env={**os.environ, **env}, timeout=60)
    return running_server(command=command, env=env, cwd=tmp_path)


def test_production_refuses_to_start_without_a_database_url(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKQ_")}
    result = subprocess.run([os.path.join(BIN, "initialize_db"), PRODUCTION_INI],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "stackq: setting sqlalchemy.url = '': set a database URL (STACKQ_SQLALCHEMY_URL)")


def test_gunicorn_serves_production_ini_on_the_test_database(tmp_path, database_url, redis_url,
                                                            upstream):
    with serve_production(tmp_path, database_url, redis_url, upstream) as server:
        home = urllib.request.urlopen(server.url + "/")
        body = home.read().decode()
        form = urllib.request.urlopen(server.url + "/queries/new").read().decode()
        output = server.output()
    assert home.status == 200 and "<h1>Saved searches</h1>" in body
    assert 'class="sign-in"' in body  # accounts on: anyone reads, a link to sign in
    assert 'name="csrf-token"' in form
    # No debug toolbar in production.
    assert "pDebug" not in form and "debugtoolbar" not in form
    # The worker class is imported before the workers patch: nothing it imports may hold
    # ssl's names, or gevent warns (and TLS may break) in every worker.
    assert "MonkeyPatchWarning" not in output, output
    assert "pkg_resources is deprecated" not in output, output
    assert "Traceback" not in output, output


def test_production_ini_has_no_debug_features():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(PRODUCTION_INI, encoding="utf-8")
    app = parser["app:main"]
    assert "pyramid.includes" not in app  # no debug toolbar, nothing else slipped in
    for flag in ("pyramid.reload_templates", "pyramid.debug_authorization",
                 "pyramid.debug_notfound", "pyramid.debug_routematch"):
        assert app.getboolean(flag) is False, flag
    assert not any(key.startswith("debugtoolbar.") for key in app)
    # Secrets only from the environment.
    assert app.get("sqlalchemy.url", "") == "" and "stackq.api.key" not in app
    assert parser["logger_root"]["level"] in ("WARN", "WARNING", "ERROR")
    assert parser["logger_sqlalchemy"]["level"] in ("WARN", "WARNING", "ERROR")


def test_each_worker_accepts_every_waiting_connection_per_loop_turn():
    # gevent's pywsgi would take one per turn under several workers: connections then waited
    # seconds in the listen queue under load (benchmarks/tail_latency.py).
    from stackq.server.gunicorn import WebSocketWorker

    server = WebSocketWorker.server_class(("127.0.0.1", 0), application=None,
                                          environ={"wsgi.multiprocess": True})
    assert server.max_accept == 100


def test_gunicorns_access_log_still_writes_a_line_per_request(tmp_path, database_url, redis_url,
                                                               upstream):
    command = lambda port: gunicorn(port, "--access-logfile", "-")  # noqa: E731
    with serve_production(tmp_path, database_url, redis_url, upstream, command) as server:
        urllib.request.urlopen(server.url + "/status").read()
        # The line is written once the answer is out: it may land just after.
        wait_until(lambda: '"GET /status HTTP/1.1" 200' in server.output(), 10,
                   "an access line for GET /status")


class GunicornLog:
    def __init__(self, access_log):
        self.access_log = access_log


def test_an_access_line_is_built_only_when_a_handler_takes_it():
    from stackq.server.gunicorn import writes_access_log

    # As gunicorn leaves it under --paste with production.ini: its own level, no handler.
    access = logging.getLogger("tests.gunicorn.access")
    access.propagate = False
    access.setLevel(logging.INFO)
    assert not writes_access_log(GunicornLog(access))
    handler = logging.NullHandler()
    access.addHandler(handler)  # --access-logfile, or the ini's own handler for it
    try:
        assert writes_access_log(GunicornLog(access))
        access.setLevel(logging.WARNING)
        assert not writes_access_log(GunicornLog(access))
    finally:
        access.removeHandler(handler)


def test_gunicorns_admission_gate_takes_its_numbers_from_the_environment():
    from stackq.server.admission import DEFAULT_LONGEST_WAIT, DEFAULT_SIZE
    from stackq.server.gunicorn import admission_from_environ

    default = admission_from_environ({})
    assert (default.size, default.longest_wait) == (DEFAULT_SIZE, DEFAULT_LONGEST_WAIT)
    gate = admission_from_environ({"STACKQ_ADMISSION_SIZE": "4",
                                   "STACKQ_ADMISSION_LONGEST_WAIT": "1.5"})
    assert (gate.size, gate.longest_wait) == (4, 1.5)


def test_gunicorns_connection_limits_take_their_numbers_from_the_environment():
    from stackq.server.connections import ConnectionLimits
    from stackq.server.gunicorn import limits_from_environ

    assert limits_from_environ({}) == ConnectionLimits()
    limits = limits_from_environ({"STACKQ_BODY_TIMEOUT": "2.5", "STACKQ_IDLE_TIMEOUT": "7",
                                  "STACKQ_HEADER_TIMEOUT": "3", "STACKQ_CLIENT_CONNECTIONS": "0"})
    assert limits == ConnectionLimits(idle_timeout=7, header_timeout=3, body_timeout=2.5,
                                      client_connections=0)
    with pytest.raises(SystemExit, match="STACKQ_BODY_TIMEOUT = 'slow'"):
        limits_from_environ({"STACKQ_BODY_TIMEOUT": "slow"})


def test_a_bad_admission_number_stops_gunicorn_with_one_line_naming_it(tmp_path):
    env = {**os.environ, "STACKQ_SQLALCHEMY_URL": f"sqlite:///{tmp_path}/bad.sqlite",
           "STACKQ_ADMISSION_SIZE": "lots"}
    result = subprocess.run(gunicorn(free_port()), capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=60)
    # gunicorn's master stops before any worker starts, not one worker after another.
    assert result.returncode != 0
    assert "stackq: STACKQ_ADMISSION_SIZE = 'lots': a number from 1" in result.stderr
    assert "Booting worker" not in result.stderr
    assert "Traceback" not in result.stderr, result.stderr

"""Accounts in real processes: `stackq_user` on the module's stack, the web app refusing to
start with accounts on and no secret, and `/ws` closed to anonymous readers when reading needs a
user."""

import os
import struct
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
import websocket
import webtest
from pyramid.paster import get_appsettings
from redis.backoff import NoBackoff
from redis.retry import Retry

from stackq.accounts.signed_out import LASTS, SignedOutSessions, signed_out_key
from stackq.accounts.throttle import LIMIT, SignInThrottle
from stackq.infra.registry import SETTINGS
from stackq.infra.settings import load_settings
from tests.support.accounts import AUTH_ON, accounts_app, clean_accounts, new_browser, sign_in
from tests.support.redis import RedisServer
from tests.support.serverproc import free_port, pserve_path
from tests.support.stack import running_web, write_ini, ws_url

STACK_SETTINGS = AUTH_ON
REPO = Path(__file__).resolve().parents[2]


def stackq_user(ini, *args, stdin=""):
    # `python -m` with this process's PYTHONPATH: the code under test, whichever copy.
    return subprocess.run([sys.executable, "-m", "stackq.accounts.command", str(ini), *args],
                          input=stdin, capture_output=True, text=True, timeout=60)


@pytest.fixture
def stack_ini(stack, upstream):
    clean_accounts(stack)
    return stack.ini


def test_add_list_token_revoke_remove(stack, stack_ini, request):
    added = stackq_user(stack_ini, "add", "alice", "--password-stdin", stdin="s3cret words\n")
    assert added.returncode == 0, added.stderr
    assert "s3cret" not in added.stdout + added.stderr
    made = stackq_user(stack_ini, "token", "alice")
    assert made.returncode == 0, made.stderr
    token = made.stdout.split()[-1]
    listed = stackq_user(stack_ini, "list")
    assert listed.stdout.startswith("alice") and token not in listed.stdout
    token_id = made.stdout.split()[2]
    assert f"tokens: {token_id} (made" in listed.stdout

    client = webtest.TestApp(accounts_app(stack, request.addfinalizer))
    bearer = {"Authorization": f"Bearer {token}"}
    body = {"kind": "harvest", "q": "python", "site": "stackoverflow", "pages": 1}
    client.post_json("/api/tasks", body, headers=bearer, status=202)

    assert stackq_user(stack_ini, "revoke", "alice", token_id).returncode == 0
    client.post_json("/api/tasks", body, headers=bearer, status=401)
    removed = stackq_user(stack_ini, "remove", "alice")
    assert removed.returncode == 0 and "no users" in stackq_user(stack_ini, "list").stdout


def test_a_new_password_ends_every_session_of_the_user_and_keeps_their_tokens(
        stack, stack_ini, request):
    stackq_user(stack_ini, "add", "alice", "--password-stdin", stdin="old words\n")
    token = stackq_user(stack_ini, "token", "alice").stdout.split()[-1]
    app = accounts_app(stack, request.addfinalizer)
    browsers = [new_browser(app), new_browser(app)]
    for browser in browsers:
        sign_in(browser, "alice", "old words")
    changed = stackq_user(stack_ini, "password", "alice", "--password-stdin",
                          stdin="new words\n")
    assert changed.returncode == 0, changed.stderr
    assert "new words" not in changed.stdout + changed.stderr
    for browser in browsers:
        assert "Sign in</a>" in browser.get("/").text
    sign_in(new_browser(app), "alice", "old words", status=400)
    sign_in(new_browser(app), "alice", "new words")
    body = {"kind": "harvest", "q": "python", "site": "stackoverflow", "pages": 1}
    webtest.TestApp(app).post_json("/api/tasks", body, status=202,
                                   headers={"Authorization": f"Bearer {token}"})


def test_refusals_say_why_with_exit_1(stack_ini):
    stackq_user(stack_ini, "add", "alice", "--password-stdin", stdin="pw\n")
    cases = [(("add", "alice", "--password-stdin"), "pw\n", "there is a user alice already"),
             (("add", "bob", "--password-stdin"), "\n", "the password is empty"),
             (("add", "no spaces", "--password-stdin"), "pw\n", "is not a user name"),
             (("remove", "nobody"), "", "there is no user nobody"),
             (("password", "nobody", "--password-stdin"), "pw\n", "there is no user nobody"),
             (("password", "alice", "--password-stdin"), "\n", "the password is empty"),
             (("token", "nobody"), "", "there is no user nobody"),
             (("revoke", "alice", "99"), "", "alice has no token 99")]
    for args, stdin, said in cases:
        result = stackq_user(stack_ini, *args, stdin=stdin)
        assert result.returncode == 1 and said in result.stderr, (args, result.stderr)


def test_production_ini_turns_accounts_on():
    settings = load_settings(get_appsettings(str(REPO / "production.ini")),
                             environ={"STACKQ_SQLALCHEMY_URL": "sqlite://"})
    assert settings[SETTINGS].auth_enabled is True


def test_the_web_app_refuses_to_start_with_accounts_on_and_no_secret(stack, tmp_path):
    ini = write_ini(tmp_path / "no-secret.ini", stack.db_url, stack.redis_url, stack.api_url,
                    **{"stackq.auth.enabled": "true"})
    env = {k: v for k, v in os.environ.items() if k != "STACKQ_SESSION_SECRET"}
    result = subprocess.run([pserve_path(), str(ini), f"http_port={free_port()}"], env=env,
                            capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    last = (result.stdout + result.stderr).strip().splitlines()[-1]
    assert "STACKQ_SESSION_SECRET" in last and "Traceback" not in result.stderr


def test_gunicorn_on_production_ini_without_a_secret_stops_instead_of_restarting_workers(
        stack, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "STACKQ_SESSION_SECRET"}
    env.update(STACKQ_SQLALCHEMY_URL=stack.db_url, STACKQ_REDIS_URL=stack.redis_url)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "--paste", str(REPO / "production.ini"),
         "--worker-class", "stackq.server.gunicorn.WebSocketWorker", "--workers", "2",
         "--bind", f"127.0.0.1:{free_port()}", "--no-control-socket"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL)
    assert result.returncode == 3, result.stderr  # gunicorn's "Worker failed to boot."
    refusals = [line for line in result.stderr.splitlines() if "STACKQ_SESSION_SECRET" in line]
    assert refusals and all(line.startswith("stackq: ") for line in refusals)
    assert "Traceback" not in result.stderr


def test_while_redis_is_down_each_process_counts_failures_itself():
    # No retries: the app's own client fails fast through its circuit breaker.
    unreachable = redis.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))
    throttle = SignInThrottle(unreachable)
    for _ in range(LIMIT):
        assert throttle.retry_after("alice", "192.0.2.1") is None
        throttle.failed("alice", "192.0.2.1")
    assert throttle.retry_after("alice", "192.0.2.1") > 0
    assert throttle.retry_after("alice", "192.0.2.2") is None
    throttle.succeeded("alice", "192.0.2.1")
    assert throttle.retry_after("alice", "192.0.2.1") is None


def test_a_sign_out_is_known_to_every_process_and_to_its_own_while_redis_is_down(stack):
    """...and handed to Redis once it is back."""
    processes = [SignedOutSessions(stack.redis) for _ in range(2)]
    processes[0].add("session one")
    assert "session one" in processes[1] and "session two" not in processes[1]
    assert LASTS - 5 < stack.redis.ttl(signed_out_key("session one")) <= LASTS
    server = RedisServer()  # down, then up on the same port
    client = redis.Redis.from_url(server.url, retry=Retry(NoBackoff(), 0))
    here, elsewhere = SignedOutSessions(client), SignedOutSessions(client)
    here.add("session three")
    assert "session three" in here and "session three" not in elsewhere
    server.start()
    try:
        assert "session four" not in here  # Redis answers: what it missed is handed over
        assert "session three" in SignedOutSessions(server.client())
        assert LASTS - 5 < server.client().ttl(signed_out_key("session three")) <= LASTS
    finally:
        server.stop()


def test_with_reading_for_users_an_anonymous_socket_is_closed_at_once(stack, tmp_path):
    ini = write_ini(tmp_path / "read-login.ini", stack.db_url, stack.redis_url, stack.api_url,
                    **AUTH_ON, **{"stackq.auth.read": "login"})
    with running_web("pserve", ini) as server:
        try:
            urllib.request.urlopen(server.url + "/", timeout=10)
            raise AssertionError("an anonymous reader got the front page")
        except urllib.error.HTTPError as refused:
            assert refused.code == 403
        ws = websocket.create_connection(ws_url(server), timeout=10, origin=server.url)
        try:
            opcode, data = ws.recv_data(control_frame=True)
        finally:
            ws.close()
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert struct.unpack("!H", data[:2])[0] == 1008 and b"sign in" in data

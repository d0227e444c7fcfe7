"""Host A and host B as tests/scale/test_two_hosts.py runs them: per host, gunicorn (2 workers,
production.ini) and `refresh_queries` in a network namespace of its own (tests/support/netns.py),
all on one PostgreSQL, one Redis and two emulated mirrors at the services' address."""

import contextlib
import http.cookies
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import websocket

from tests.support.accounts import SECRET, make_token, make_user
from tests.support.netns import private_network
from tests.support.postgres_cluster import postgres_cluster
from tests.support.redis import RedisServer
from tests.support.serverproc import free_port
from tests.support.stack import Stack
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
PRODUCTION_INI = REPO / "production.ini"
BIN = Path(sys.executable).parent
API_KEY = "two-hosts"  # a key: every cycle refreshes every search, whatever the time of day


class HostProcesses:
    """gunicorn and refresh_queries of one host; `url` its web address."""

    def __init__(self, host, env, tmp, refresher_args, token):
        self.host, self.env, self.tmp = host, env, tmp
        self.token = token  # an API token of the user both hosts know
        self.port = free_port()
        self.url = f"http://{host.address}:{self.port}"
        self.web = self.start("web", [BIN / "gunicorn", "--paste", PRODUCTION_INI,
                                      "--worker-class", "stackq.server.gunicorn.WebSocketWorker",
                                      "--workers", "2", "--bind", f"{host.address}:{self.port}",
                                      "--no-control-socket"])
        self.refresher = self.start("refresher", [BIN / "refresh_queries", PRODUCTION_INI,
                                                  *refresher_args])

    def start(self, name, argv):
        with open(self.log_path(name), "wb") as log:
            # `ip netns exec` execs the command: the pid is the program's own.
            return subprocess.Popen(self.host.command(argv), env=self.env, cwd=self.tmp,
                                    stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def log_path(self, name):
        return self.tmp / f"{self.host.name}-{name}.log"

    def output(self):
        return "\n".join(f"--- host {self.host.name} {name}:\n" +
                         self.log_path(name).read_text(errors="replace")
                         for name in ("web", "refresher"))

    def wait_ready(self, timeout=60):
        def answers():
            if self.web.poll() is not None:
                raise AssertionError(f"gunicorn on host {self.host.name} exited:\n"
                                     + self.output())
            try:
                with urllib.request.urlopen(self.url + "/status", timeout=2):
                    return True
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False

        wait_until(answers, timeout, f"gunicorn on host {self.host.name}")

    def runs(self, runner):
        """True if `runner` (a refresh run's or a task worker's "host:pid...") is this host's."""
        return runner.split(":")[1] == str(self.refresher.pid)

    def connect(self):
        """A WebSocket to this host's /ws, as a page of it opens one."""
        return websocket.create_connection(self.url.replace("http", "ws", 1) + "/ws",
                                           timeout=10, origin=self.url)

    def post_task(self, body):
        request = urllib.request.Request(self.url + "/api/tasks", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)

    def stop(self):
        for proc in (self.refresher, self.web):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in (self.refresher, self.web):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(20)
        self.host.kill_everything()


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 303 itself is the answer under test


class OneNameBrowser:
    """A browser that reaches both hosts under one name, as behind a load balancer: one set of
    cookies, sent to whichever host answers. `get` and `post` give (status, text)."""

    def __init__(self, cookies=None):
        self.cookies = dict(cookies or {})
        self.opener = urllib.request.build_opener(NoRedirects)

    def get(self, host, path):
        return self.open(host, path)

    def post(self, host, path, form):
        return self.open(host, path, urllib.parse.urlencode(form).encode())

    def open(self, host, path, data=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if data is not None:
            headers["Origin"] = host.url  # the name the browser reached, as it sends it
        request = urllib.request.Request(host.url + path, data=data, headers=headers)
        try:
            answer = self.opener.open(request, timeout=20)
        except urllib.error.HTTPError as refused:
            answer = refused
        with answer:
            for header in answer.headers.get_all("Set-Cookie") or ():
                for name, morsel in http.cookies.SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return answer.status, answer.read().decode()


class TwoHosts:
    """The services (`stack`: the shared database and Redis, `mirrors`) and hosts A and B."""

    def __init__(self, network, stack, mirrors, hosts):
        self.network, self.stack, self.mirrors = network, stack, mirrors
        self.a, self.b = hosts

    def output(self):
        return self.a.output() + "\n" + self.b.output()


def host_env(network, stack, mirrors):
    """What production.ini takes from the environment, for a host of `network`."""
    return {**os.environ,
            "STACKQ_SQLALCHEMY_URL": stack.db_url, "STACKQ_REDIS_URL": stack.redis_url,
            "STACKQ_API_URLS": " ".join(mirror.base_url for mirror in mirrors),
            "STACKQ_API_KEY": API_KEY, "STACKQ_API_TIMEOUT": "5",
            "STACKQ_ALLOWED_HOSTS": " ".join(h.address for h in network.hosts.values()),
            # Accounts on, as production.ini has them: one secret for every host.
            "STACKQ_SESSION_SECRET": SECRET}


@contextlib.contextmanager
def two_hosts(tmp, mirrors_factory, searches=(), refresher_args=()):
    """A TwoHosts, everything started; everything stopped and removed after.
    `mirrors_factory(address)`: the emulated mirrors, started at the services' address;
    `searches`: saved (their first page stored) before the hosts start, as is the user
    alice (tests/support/accounts.py) with an API token."""
    with private_network(("a", "b")) as network, \
            postgres_cluster(network.services, clients=network.subnet) as database, \
            contextlib.ExitStack() as cleanup:
        redis_server = RedisServer(host=network.services).start()
        cleanup.callback(redis_server.stop)
        mirrors = mirrors_factory(network.services)
        stack = Stack(tmp, database.url, redis_server.url, mirrors[0].base_url,
                      **{"stackq.api.key": API_KEY})
        cleanup.callback(stack.close)
        for q in searches:
            stack.save_search(q)
        make_user(stack, "alice")
        token = make_token(stack, "alice")
        env = host_env(network, stack, mirrors)
        hosts = []
        for name in ("a", "b"):
            host = HostProcesses(network.hosts[name], env, tmp, refresher_args, token)
            cleanup.callback(host.stop)
            hosts.append(host)
        for host in hosts:
            host.wait_ready()
        yield TwoHosts(network, stack, mirrors, hosts)

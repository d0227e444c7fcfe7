"""A Redis Sentinel set of our own: a master, a replica and three sentinels on free loopback
ports, each from a config file in a temporary directory (Sentinel rewrites its own)."""

import contextlib
import os
import signal
import subprocess
import time

import redis

from tests.support.redis import redis_server_binary
from tests.support.serverproc import free_port
from tests.support.waiting import wait_until

SERVICE = "stackq"


def has_redis_server():
    try:
        return os.path.exists(redis_server_binary())
    except ImportError:
        return False


class SentinelSet:
    """`password`: the master's and replica's (requirepass); `sentinel_password`: the
    sentinels' own, which they also give each other."""

    def __init__(self, directory, sentinels=3, password=None, sentinel_password=None):
        self.directory = directory
        self.password, self.sentinel_password = password, sentinel_password
        self.master_port, self.replica_port = free_port(), free_port()
        self.sentinel_ports = [free_port() for _ in range(sentinels)]
        self.procs = {}

    @property
    def url(self):
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        auth = f":{self.password}@" if self.password else ""
        query = f"?sentinel_password={self.sentinel_password}" if self.sentinel_password else ""
        return f"redis+sentinel://{auth}{hosts}/{SERVICE}/0{query}"

    def _start(self, port, lines, sentinel=False):
        config = self.directory / f"{port}.conf"
        config.write_text("\n".join([f"port {port}", "bind 127.0.0.1", f"dir {self.directory}",
                                     *lines]) + "\n")
        argv = [redis_server_binary(), str(config)] + (["--sentinel"] if sentinel else [])
        log = open(self.directory / f"{port}.log", "w")  # noqa: SIM115 (closed with the proc)
        self.procs[port] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT)
        log.close()

    def start(self):
        storage = ['save ""', "appendonly no"]
        if self.password:
            storage += [f"requirepass {self.password}", f"masterauth {self.password}"]
        self._start(self.master_port, storage)
        self._start(self.replica_port, [*storage, f"replicaof 127.0.0.1 {self.master_port}"])
        guarded = []
        if self.password:
            guarded.append(f"sentinel auth-pass {SERVICE} {self.password}")
        if self.sentinel_password:
            guarded += [f"requirepass {self.sentinel_password}",
                        f"sentinel sentinel-pass {self.sentinel_password}"]
        for port in self.sentinel_ports:
            self._start(port, [f"sentinel monitor {SERVICE} 127.0.0.1 {self.master_port} 2",
                               f"sentinel down-after-milliseconds {SERVICE} 1000",
                               f"sentinel failover-timeout {SERVICE} 4000",
                               f"sentinel parallel-syncs {SERVICE} 1", *guarded], sentinel=True)
        self.wait_ready(self.master_port, self.replica_port)
        return self

    def client(self, port):
        """A client of one of the set's servers, with the password that server asks for."""
        password = (self.sentinel_password if port in self.sentinel_ports else self.password)
        return redis.Redis(port=port, password=password, socket_connect_timeout=0.2,
                           socket_timeout=1)

    def ask(self, port, *command):
        try:
            with self.client(port) as client:
                return client.execute_command(*command)
        except redis.RedisError:
            return None

    def master(self):
        """The master's port, as the first sentinel that answers sees it."""
        for port in self.sentinel_ports:
            answer = self.ask(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
            if answer:
                return int(answer[1])
        return None

    def wait_ready(self, master, replica, timeout=20.0):
        """Until every sentinel knows `master`, the replica in sync and the other sentinels:
        only then can they agree on a failover."""
        def ready():
            for port in self.sentinel_ports:
                try:
                    with self.client(port) as sentinel:
                        state = sentinel.sentinel_master(SERVICE)
                        replicas = sentinel.sentinel_slaves(SERVICE)
                except redis.RedisError:
                    return False
                if state["port"] != master or not state["is_master"] or state["is_sdown"]:
                    return False
                if state["num-other-sentinels"] < len(self.sentinel_ports) - 1:
                    return False
                if not any(r["port"] == replica and r["is_slave"] and not r["is_sdown"]
                           and r.get("master-link-status") == "ok" for r in replicas):
                    return False
            return True

        wait_until(ready, timeout, f"sentinels agreeing on master {master}, replica {replica}",
                   interval=0.2)

    def replicated(self, master, timeout=10.0):
        """How many replicas acknowledged every write made on `master` so far (WAIT), once
        they have or `timeout` has passed. Replication is asynchronous: a master switched
        before its replica acknowledged a write loses it, whatever the clients do."""
        with redis.Redis(port=master, password=self.password,
                         socket_timeout=timeout + 5) as client:
            return client.execute_command("WAIT", 1, int(timeout * 1000))

    def failover(self):
        """SENTINEL FAILOVER: the master demoted alive (clients on it meet READONLY)."""
        with self.client(self.sentinel_ports[0]) as sentinel:
            return sentinel.execute_command("SENTINEL", "FAILOVER", SERVICE)

    def kill(self, port):
        self.procs[port].send_signal(signal.SIGKILL)
        self.procs[port].wait(10)

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@contextlib.contextmanager
def sentinel_set(directory, **passwords):
    """A running SentinelSet for the block; every process killed at the end."""
    found = SentinelSet(directory, **passwords)
    try:
        yield found.start()
    finally:
        found.stop()


def wait_for_new_master(sentinels, old, timeout=20.0):
    """The port of the master the sentinels name once it is no longer `old`."""
    started = time.monotonic()
    port = wait_until(lambda: (sentinels.master() or old) != old and sentinels.master(),
                      timeout, f"a master other than {old}", interval=0.1)
    return port, time.monotonic() - started

"""Hosts of their own on this machine: network namespaces on a private bridge (root only).

`private_network(names)` makes a bridge holding the services' address in this (the root)
namespace, and per host a namespace with a veth pair on that bridge, in a /24 no route here
uses yet. A host's processes reach the services, and the test reaches the hosts, over the
bridge only: to one another they are separate machines. Everything is named after this
process's id (`stackq-<pid>-<host>`, `sqb<pid>`, `sqv<pid><host>`), so two test runs at once
never meet, and a run killed before its cleanup is swept by a later one (its pid is gone).
"""

import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass

from stackq.infra.embedded_redis import alive

PREFIX = "stackq-"


class NetnsUnavailable(RuntimeError):
    """Namespaces cannot be made here (not root, no `ip`, or the kernel refused)."""


def ip(*args, check=True):
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise NetnsUnavailable(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@dataclass
class Host:
    """One namespace: its name in `ip netns`, its address on the bridge."""

    name: str
    namespace: str
    address: str

    def command(self, argv):
        """`argv` run inside the namespace (`ip netns exec` execs it: the same pid)."""
        return ["ip", "netns", "exec", self.namespace, *map(str, argv)]

    def pids(self):
        return [int(pid) for pid in ip("netns", "pids", self.namespace, check=False).split()]

    def kill_everything(self):
        """SIGKILL to every process in the namespace, as a host losing its power."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@dataclass
class Network:
    services: str  # this namespace's address on the bridge
    subnet: str
    hosts: dict


def why_unavailable():
    """None if namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces (ip netns) need root"
    if not shutil.which("ip"):
        return "no `ip` command (iproute2) to make network namespaces with"
    return None


def sweep_leftovers():
    """Namespaces and bridges of earlier runs whose process is gone (killed before cleanup)."""
    for line in ip("netns", "list", check=False).splitlines():
        found = re.match(rf"{PREFIX}(\d+)-\S+", line)
        if found and not alive(int(found.group(1))):
            remove_namespace(found.group(0))
    for found in re.finditer(r"^\d+: (sqb(\d+))[:@]", ip("-o", "link", check=False), re.M):
        if not alive(int(found.group(2))):
            ip("link", "del", found.group(1), check=False)


def remove_namespace(namespace):
    # Its processes first: a namespace outlives its name while one of them runs.
    Host("", namespace, "").kill_everything()
    ip("netns", "del", namespace, check=False)


def unused_subnet():
    """A 10.x.y.0/24 that no address or route of this machine is in."""
    taken = ip("-4", "route", "show", "table", "all") + ip("-4", "-o", "addr")
    for _ in range(100):
        prefix = f"10.{random.randint(100, 250)}.{random.randint(0, 255)}"
        if f"{prefix}." not in taken:
            return prefix
    raise NetnsUnavailable("no free 10.x.y.0/24 for the bridge")


@contextlib.contextmanager
def private_network(names=("a", "b")):
    """A Network whose `hosts` (one per name) are namespaces on a bridge of their own;
    every process left in them is killed, and all of it removed, after."""
    reason = why_unavailable()
    if reason:
        raise NetnsUnavailable(reason)
    sweep_leftovers()
    pid = os.getpid()
    bridge, prefix = f"sqb{pid}", unused_subnet()
    hosts = {name: Host(name, f"{PREFIX}{pid}-{name}", f"{prefix}.{number}")
             for number, name in enumerate(names, start=2)}
    try:
        ip("link", "add", bridge, "type", "bridge")
        ip("addr", "add", f"{prefix}.1/24", "dev", bridge)
        ip("link", "set", bridge, "up")
        for host in hosts.values():
            outside, inside = f"sqv{pid}{host.name}", f"sqv{pid}{host.name}p"
            ip("netns", "add", host.namespace)
            ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            ip("link", "set", inside, "netns", host.namespace)
            ip("link", "set", outside, "master", bridge, "up")
            ip("-n", host.namespace, "addr", "add", f"{host.address}/24", "dev", inside)
            ip("-n", host.namespace, "link", "set", inside, "up")
            ip("-n", host.namespace, "link", "set", "lo", "up")
        yield Network(f"{prefix}.1", f"{prefix}.0/24", hosts)
    finally:
        for host in hosts.values():
            remove_namespace(host.namespace)  # its veth pair goes with it...
            ip("link", "del", f"sqv{pid}{host.name}", check=False)  # ...unless never moved in
        ip("link", "del", bridge, check=False)

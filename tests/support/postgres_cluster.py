"""A PostgreSQL server of a test's own, made with initdb in a temporary folder: one the test may
stop and start again mid-run, which the machine's shared server must never be.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (else
`nobody`), which owns the folder. Nothing in it needs keeping: trust auth, fsync off.
"""

import contextlib
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile

from tests.support.serverproc import free_port

SETTINGS = {
    "unix_socket_directories": "''",  # TCP only: no socket beside the machine's server's
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "40",
    "shared_buffers": "16MB",
}
PROGRAMS = ("initdb", "pg_ctl", "postgres")


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server programs on this machine."""


def version_of(bindir):
    found = re.search(r"/postgresql/(\d+)/", bindir)
    return int(found.group(1)) if found else 0


def bindir_candidates():
    """pg_config's bindir, initdb on PATH, then Debian's versioned folders, newest first."""
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            candidates.append(subprocess.run([pg_config, "--bindir"], capture_output=True,
                                             text=True, timeout=10).stdout.strip())
    if shutil.which("initdb"):
        candidates.append(os.path.dirname(shutil.which("initdb")))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_of, reverse=True)
    return candidates


def postgres_bindir():
    """The first folder holding initdb, pg_ctl and postgres; ClusterUnavailable if none."""
    for candidate in bindir_candidates():
        if candidate and all(os.access(os.path.join(candidate, name), os.X_OK)
                             for name in PROGRAMS):
            return candidate
    raise ClusterUnavailable("no PostgreSQL server programs (initdb, pg_ctl, postgres) in "
                             f"{bindir_candidates() or 'pg_config --bindir'} or "
                             "/usr/lib/postgresql/*/bin: install postgresql")


def server_account():
    """The account the server runs as: None for this one, unless this one is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ClusterUnavailable("running as root with neither a postgres nor a nobody account")


class PostgresCluster:
    """initdb'd into `directory`, on `host`:`port`; `stop()` and `start()` at will.

    `clients`: a network (e.g. "10.0.0.0/24") whose hosts may connect too, without a password
    (initdb's trust covers this machine's own addresses only)."""

    def __init__(self, bindir, directory, account, host="127.0.0.1", clients=None):
        self.host = host
        self.clients = clients
        self.bindir = bindir
        self.directory = directory
        self.account = account
        self.data = os.path.join(directory, "data")
        self.log_path = os.path.join(directory, "server.log")
        self.port = free_port()

    @property
    def url(self):
        return f"postgresql+psycopg2://postgres@{self.host}:{self.port}/postgres"

    def run(self, program, *args):
        as_account = {}
        if self.account is not None:
            as_account = {"user": self.account.pw_uid, "group": self.account.pw_gid,
                          "extra_groups": []}
        done = subprocess.run([os.path.join(self.bindir, program), *args], cwd=self.directory,
                              capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL, **as_account)
        if done.returncode != 0:
            raise ClusterUnavailable(f"{program} {' '.join(args)} failed ({done.returncode}):\n"
                                     f"{done.stdout}{done.stderr}{self.log()}")
        return done.stdout

    def init(self):
        self.run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C", "--no-sync")
        with open(os.path.join(self.data, "postgresql.conf"), "a", encoding="utf-8") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '{self.host}'\n")
            conf.writelines(f"{name} = {value}\n" for name, value in SETTINGS.items())
        if self.clients:
            with open(os.path.join(self.data, "pg_hba.conf"), "a", encoding="utf-8") as hba:
                hba.write(f"host all all {self.clients} trust\n")

    def start(self):
        self.run("pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", "30", "start")

    def stop(self, mode="fast"):
        self.run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def running(self):
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def log(self):
        """What the server wrote to its log so far."""
        if not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()


@contextlib.contextmanager
def postgres_cluster(host="127.0.0.1", clients=None):
    """A started PostgresCluster (on `host`, open to `clients`); stopped and its folder
    removed after."""
    bindir = postgres_bindir()
    account = server_account()
    # Not under pytest's tmp folder: that one is closed to every account but this one.
    directory = tempfile.mkdtemp(prefix="stackq-pg-")
    try:
        if account is not None:
            os.chown(directory, account.pw_uid, account.pw_gid)
        cluster = PostgresCluster(bindir, directory, account, host, clients)
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.running():
                cluster.stop("immediate")
    finally:
        shutil.rmtree(directory, ignore_errors=True)

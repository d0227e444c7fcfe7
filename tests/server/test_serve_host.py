"""`pserve development.ini host=… http_port=…`: the address and port from the command line."""

import socket
import subprocess

from tests.support.serverproc import free_port, pserve_path, stop
from tests.support.stack import open_stack
from tests.support.waiting import wait_until


def accepts(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def test_host_and_port_come_from_the_command_line(tmp_path, emulator):
    port = free_port()
    log_path = tmp_path / "pserve.log"
    with open_stack(tmp_path, emulator.base_url) as stack, open(log_path, "wb") as log:
        # The ini says host = localhost; the command line moves it to another loopback address.
        proc = subprocess.Popen([pserve_path(), str(stack.ini), "host=127.0.0.2",
                                 f"http_port={port}"], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_until(lambda: accepts("127.0.0.2", port) or proc.poll() is not None, 30,
                       "pserve to listen")
            assert accepts("127.0.0.2", port), log_path.read_text()
            assert not accepts("127.0.0.1", port)
            # Announced just after the server starts accepting.
            wait_until(lambda: f"serving on http://127.0.0.2:{port}" in log_path.read_text(),
                       10, "the announcement of the address")
        finally:
            stop(proc)

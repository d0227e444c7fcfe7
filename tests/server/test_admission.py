"""The admission gate: a few requests inside, the rest let in first come, first served, none
kept out longer than the bound; and the real server passing plain requests through it but
not WebSockets."""

import configparser
import json
import os
import socket
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gevent
import gevent.event
import pytest
import websocket

from stackq.server.admission import AdmissionGate
from stackq.server.gunicorn import AcceptingServer
from tests.support.serverproc import running_server
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
# Long enough never to run out in these tests: whoever gets in got a slot handed over.
NO_BOUND = 30.0
TINY_BOUND = 0.01


def visit(gate, entered, name, stay=0):
    """A request: waits at the gate, notes it got in, stays `stay` turns of the loop."""
    with gate.admitted():
        entered.append(name)
        for _ in range(stay):
            gevent.sleep(0)


def queue_up(gate, entered, names, stay=0):
    """Greenlets for `names` in that order, each waiting at the gate once this returns."""
    waiters = []
    for name in names:
        waiters.append(gevent.spawn(visit, gate, entered, name, stay))
        gevent.sleep(0)  # it reaches the gate before the next one is spawned
    return waiters


def assert_empty(gate):
    assert (gate.inside, gate.guests, len(gate.waiting), len(gate.quick)) == (0, 0, 0, 0)


def test_waiters_go_in_in_arrival_order_and_newcomers_queue_behind_them():
    gate = AdmissionGate(size=1, longest_wait=NO_BOUND)
    entered = []
    gate.enter()
    waiters = queue_up(gate, entered, range(5), stay=2)
    assert len(gate.waiting) == 5 and entered == []
    gate.leave()
    # Comes while the first waiter has been handed the slot but has not run yet: with a
    # Semaphore this newcomer would take the slot first.
    visit(gate, entered, "newcomer")
    gevent.joinall(waiters, raise_error=True)
    assert entered == [0, 1, 2, 3, 4, "newcomer"]
    assert_empty(gate)


def test_never_more_than_size_inside():
    gate = AdmissionGate(size=3, longest_wait=NO_BOUND)
    seen_inside = []

    def request():
        with gate.admitted():
            seen_inside.append(gate.inside)
            for _ in range(3):
                gevent.sleep(0)

    gevent.joinall([gevent.spawn(request) for _ in range(40)], raise_error=True)
    assert len(seen_inside) == 40
    assert max(seen_inside) == 3
    assert_empty(gate)


def test_a_waiter_goes_in_over_size_after_the_longest_wait():
    gate = AdmissionGate(size=1, longest_wait=TINY_BOUND)
    entered = []
    gate.enter()  # held until the end: only the bound lets the waiter in
    waiter = gevent.spawn(visit, gate, entered, "waiter")
    waiter.join(timeout=NO_BOUND)
    assert waiter.successful() and entered == ["waiter"]
    assert (gate.inside, gate.guests, len(gate.waiting)) == (1, 0, 0)
    gate.leave()
    assert_empty(gate)


def test_a_waiter_handed_the_slot_as_its_wait_runs_out_counts_once():
    gate = AdmissionGate(size=1, longest_wait=TINY_BOUND)
    entered = []
    gate.enter()  # the holder: let go by the first waiter, from inside

    def first():
        visit(gate, entered, "first")
        gate.leave()  # the holder's slot, now: the second waiter is handed it

    waiters = [gevent.spawn(first), gevent.spawn(visit, gate, entered, "second")]
    gevent.sleep(0)
    # Blocks the whole loop: both waits run out in the same turn, the first one's timer
    # going off first, so the second's goes off after the hand-off, before its wake-up.
    time.sleep(TINY_BOUND * 5)
    gevent.joinall(waiters, raise_error=True)
    assert entered == ["first", "second"]
    assert_empty(gate)


def test_a_guest_let_in_by_the_bound_takes_no_slot_and_gives_none_back():
    gate = AdmissionGate(size=1, longest_wait=TINY_BOUND)
    assert gate.enter() is True
    assert gate.enter() is False  # the only slot is held: in as a guest, after the bound
    assert (gate.inside, gate.guests) == (1, 1)
    gate.leave(False)
    assert (gate.inside, gate.guests, len(gate.waiting)) == (1, 0, 0)
    gate.leave()
    assert gate.enter() is True  # a free slot again: straight in
    gate.leave()
    assert_empty(gate)


def quick_visit(gate, entered, name):
    with gate.admitted(quick=True):
        entered.append(name)


def test_quick_requests_are_handed_slots_before_earlier_ordinary_ones():
    gate = AdmissionGate(size=1, longest_wait=NO_BOUND)
    entered = []
    gate.enter()
    waiters = queue_up(gate, entered, ["slow 1", "slow 2"])
    for name in ("quick 1", "quick 2"):
        waiters.append(gevent.spawn(quick_visit, gate, entered, name))
        gevent.sleep(0)
    assert (len(gate.waiting), len(gate.quick)) == (2, 2)
    gate.leave()
    gevent.joinall(waiters, raise_error=True)
    assert entered == ["quick 1", "quick 2", "slow 1", "slow 2"]
    assert_empty(gate)


def test_ordinary_requests_still_go_in_while_quick_ones_keep_every_slot():
    gate = AdmissionGate(size=2, longest_wait=TINY_BOUND)
    entered, done = [], gevent.event.Event()

    def quick_forever():  # a quick request always waiting: slots never go to the other line
        while not done.is_set():
            with gate.admitted(quick=True):
                gevent.sleep(0.001)

    quick = [gevent.spawn(quick_forever) for _ in range(4)]
    gevent.sleep(0.005)
    slow = gevent.spawn(visit, gate, entered, "slow")
    slow.join(timeout=NO_BOUND)
    done.set()
    gevent.joinall(quick, raise_error=True)
    assert slow.successful() and entered == ["slow"]
    assert_empty(gate)


def test_guests_do_not_hold_up_the_quick_line():
    gate = AdmissionGate(size=1, longest_wait=TINY_BOUND)
    entered = []
    holder_leaves, guests_leave = gevent.event.Event(), gevent.event.Event()

    def stay(name, until):
        with gate.admitted():
            entered.append(name)
            until.wait()

    holder = gevent.spawn(stay, "holder", holder_leaves)
    gevent.sleep(0)
    guests = [gevent.spawn(stay, f"guest {i}", guests_leave) for i in range(3)]
    while gate.guests < 3:
        gevent.sleep(TINY_BOUND)
    quick = gevent.spawn(quick_visit, gate, entered, "quick")
    gevent.sleep(0)
    assert len(gate.quick) == 1
    # The holder's slot is the only one: the quick request has it as the holder leaves,
    # with the three guests still inside.
    holder_leaves.set()
    quick.join(timeout=NO_BOUND)
    assert quick.successful() and entered[-1] == "quick" and gate.guests == 3
    guests_leave.set()
    gevent.joinall([holder, *guests], raise_error=True)
    assert_empty(gate)


def test_a_waiter_killed_in_the_queue_leaves_it():
    gate = AdmissionGate(size=1, longest_wait=NO_BOUND)
    entered = []
    gate.enter()
    first, killed, last = queue_up(gate, entered, ["first", "killed", "last"])
    killed.kill()
    assert len(gate.waiting) == 2
    gate.leave()
    gevent.joinall([first, last], raise_error=True)
    assert entered == ["first", "last"]
    assert_empty(gate)


def test_a_waiter_killed_after_being_handed_the_slot_hands_it_on():
    gate = AdmissionGate(size=1, longest_wait=NO_BOUND)
    entered = []
    gate.enter()
    handed, next_one = queue_up(gate, entered, ["handed", "next"])
    # The kill is queued first, so it lands after the hand-off but before `handed` runs
    # (a server stopping while the slot is on its way).
    handed.kill(block=False)
    gate.leave()
    gevent.joinall([handed, next_one], timeout=NO_BOUND)
    assert handed.dead and isinstance(handed.value, gevent.GreenletExit)
    assert entered == ["next"]
    assert_empty(gate)


def test_many_waiters_some_killed_some_timed_out_leave_no_slot_behind():
    gate = AdmissionGate(size=4, longest_wait=TINY_BOUND)
    entered = []
    waiters = queue_up(gate, entered, range(200), stay=5)
    for waiter in waiters[10::7]:
        waiter.kill(block=False)
    gevent.joinall(waiters, timeout=NO_BOUND)
    assert all(waiter.dead for waiter in waiters)
    killed = {i for i, waiter in enumerate(waiters)
              if isinstance(waiter.value, gevent.GreenletExit)}
    assert killed and len(set(entered)) == len(entered)
    assert sorted(killed | set(entered)) == list(range(200))
    assert_empty(gate)


# The real pserve, with a gate of one.

def write_gate_ini(tmp_dir, longest_wait):
    """development.ini with the probes instead of the toolbar, a gate of one, DB in tmp_dir."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(REPO / "development.ini", encoding="utf-8")
    parser["app:main"]["pyramid.includes"] = (
        "tests.support.threadlocal_probe tests.support.gate_probe")
    parser["server:main"]["admission_size"] = "1"
    parser["server:main"]["admission_longest_wait"] = str(longest_wait)
    ini = Path(tmp_dir) / "gate.ini"
    with open(ini, "w", encoding="utf-8") as f:
        parser.write(f)
    return ini


@pytest.fixture()
def gate_server(tmp_path, request):
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {"PYTHONPATH": pythonpath, "STACKQ_SQLALCHEMY_URL": f"sqlite:///{tmp_path}/g.sqlite"}
    ini = write_gate_ini(tmp_path, request.param)
    with running_server(ini, env=env, ready_path="/_probe/holding") as server:
        yield server


def get_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("gate_server", [NO_BOUND], indirect=True)
def test_one_request_at_a_time_inside_and_open_websockets_hold_no_slot(gate_server):
    ws_url = gate_server.url.replace("http://", "ws://") + "/ws"
    sockets = [websocket.create_connection(ws_url, timeout=10, origin=gate_server.url)
               for _ in range(3)]
    try:
        # The probe's view takes 50 ms: all ten at once would overlap but for the gate.
        barrier = threading.Barrier(10)

        def probe(i):
            barrier.wait(timeout=10)
            return get_json(f"{gate_server.url}/_probe/threadlocal?id={i}")

        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(probe, range(10)))
        assert [answer["id"] for answer in answers] == [str(i) for i in range(10)]
        assert max(answer["peak"] for answer in answers) == 1
        assert all(ws.connected for ws in sockets)
    finally:
        for ws in sockets:
            ws.close()


@pytest.mark.parametrize("gate_server", [0.05], indirect=True)
def test_requests_still_answer_while_one_holds_the_only_slot(gate_server):
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(get_json, f"{gate_server.url}/_probe/hold", 30)
        # Each of these waits the bound at the door, then goes in beside the held one.
        wait_until(lambda: get_json(f"{gate_server.url}/_probe/holding")["holding"] == 1,
                   10, "the request to hold the slot")
        assert get_json(f"{gate_server.url}/_probe/threadlocal?id=beside")["id"] == "beside"
        assert not held.done()
        assert get_json(f"{gate_server.url}/_probe/release")["holding"] == 1
        assert held.result(timeout=30) == {"released": True}


# Long enough for the server to have read what a socket sent (it waits on nothing else).
SETTLE = 0.3


def send(server, request_head, body=b""):
    """A socket that sent `request_head` (and `body`) to `server`, given time to arrive."""
    address = urllib.parse.urlsplit(server.url)
    sock = socket.create_connection((address.hostname, address.port), timeout=NO_BOUND)
    sock.sendall(request_head.replace("{host}", address.netloc).encode() + body)
    time.sleep(SETTLE)
    return sock


def get_request(server, path):
    return send(server, f"GET {path} HTTP/1.1\r\nHost: {{host}}\r\nConnection: close\r\n\r\n")


def partial_post(server, path, body=b"q=python&site=stackoverflow"):
    """A POST whose body has not all come; (socket, the rest of its body)."""
    head = (f"POST {path} HTTP/1.1\r\nHost: {{host}}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return send(server, head, body[:5]), body[5:]


def status_of(sock, timeout):
    """The status code the server answered on `sock`; socket.timeout if none in `timeout`."""
    sock.settimeout(timeout)
    with sock, sock.makefile("rb") as answer:
        return int(answer.readline().split()[1])


@pytest.mark.parametrize("gate_server", [NO_BOUND], indirect=True)
def test_a_static_file_goes_in_ahead_of_a_request_that_came_before_it(gate_server, tmp_path):
    inside = get_request(gate_server, f"/_probe/hold?until={tmp_path}/inside")  # in the slot
    ordinary = get_request(gate_server, f"/_probe/hold?until={tmp_path}/ordinary")  # waits
    quick = get_request(gate_server, "/static/stackq.css")  # waits behind it
    (tmp_path / "inside").touch()
    assert status_of(inside, NO_BOUND) == 200
    # The slot went to the file, past the request that came first: in one line the file
    # would wait the whole bound behind that request, which stays until told.
    assert status_of(quick, timeout=10) == 200
    (tmp_path / "ordinary").touch()
    assert status_of(ordinary, NO_BOUND) == 200


@pytest.mark.parametrize("gate_server", [NO_BOUND], indirect=True)
def test_a_client_sending_its_body_slowly_holds_no_slot(gate_server):
    slow, rest = partial_post(gate_server, "/queries")
    # The only slot is free for others while the server waits for the rest of that body.
    assert status_of(get_request(gate_server, "/_probe/holding"), timeout=10) == 200
    slow.sendall(rest)
    assert status_of(slow, NO_BOUND) == 403  # all read, then refused: no CSRF token
    # One that leaves halfway through its body leaves no slot taken behind it.
    partial_post(gate_server, "/queries")[0].close()
    assert status_of(get_request(gate_server, "/_probe/holding"), timeout=10) == 200


@pytest.mark.parametrize("gate_server", [NO_BOUND], indirect=True)
def test_a_client_reading_its_answer_slowly_holds_no_slot(gate_server):
    reader = get_request(gate_server, "/_probe/big")  # never read: the server's write waits
    with reader:
        # The only slot is free for others while that answer is written.
        assert status_of(get_request(gate_server, "/_probe/holding"), timeout=10) == 200


def test_every_listener_of_a_gunicorn_worker_shares_its_one_gate():
    servers = [AcceptingServer(("127.0.0.1", 0), application=None) for _ in range(2)]
    assert servers[0].admission is servers[1].admission
    assert isinstance(servers[0].admission, AdmissionGate)

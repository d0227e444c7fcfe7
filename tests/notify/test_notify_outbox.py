"""A socket's outbox on a real (gevent) socket pair: written at once while the socket takes
it, the rest by a sender greenlet in order, and a socket that stops reading dropped."""

import json
import socket

import gevent
import pytest
from gevent import socket as gsocket

from stackq.notify.hub import Hub
from stackq.notify.outbox import PING, PING_FRAME, Outbox, frame_of, keep_pinging


@pytest.fixture
def pair():
    server, client = gsocket.socketpair()
    yield server, client
    server.close()
    client.close()


def served(hub, sock):
    subscriber = hub.subscribe()
    subscriber.writer = Outbox(sock, subscriber)
    return subscriber


def read_frames(sock, count):
    """`count` unmasked server frames: (opcode, payload)."""
    frames, data = [], b""
    while len(frames) < count:
        chunk = sock.recv(65536)
        assert chunk, "closed before every frame came"
        data += chunk
        while len(data) >= 2:
            length = data[1] & 0x7F
            start = 2 + {126: 2, 127: 8}.get(length, 0)
            if length >= 126:
                length = int.from_bytes(data[2:start], "big")
            if len(data) < start + length:
                break
            frames.append((data[0] & 0x0F, data[start:start + length]))
            data = data[start + length:]
    return frames


def test_a_socket_that_keeps_up_gets_each_notice_at_once_with_no_greenlet(pair):
    server, client = pair
    hub = Hub()
    subscriber = served(hub, server)
    hub.dispatch({"type": "task", "task_id": 1})
    # Written by the dispatching greenlet itself: nothing queued, no sender started.
    assert not subscriber.backlog and subscriber.writer.sender is None
    hub.offer_all(PING)
    (text, payload), ping = read_frames(client, 2)
    assert (text, json.loads(payload)) == (1, {"type": "task", "task_id": 1})
    assert ping == (0x9, b"")
    assert frame_of(PING) == PING_FRAME


def test_what_a_full_socket_does_not_take_follows_in_order_once_it_reads(pair):
    server, client = pair
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    hub = Hub(queue_size=50)
    subscriber = served(hub, server)
    big = "x" * 20000  # more than the socket takes at once
    for number in range(20):
        hub.dispatch({"type": "task", "task_id": number, "line": big})
    assert subscriber.backlog and subscriber.writer.sender is not None
    frames = read_frames(client, 20)
    assert [json.loads(payload)["task_id"] for _, payload in frames] == list(range(20))
    gevent.sleep(0)
    assert subscriber.writer.sender is None and not subscriber.backlog


def test_a_socket_that_stops_reading_is_dropped_when_its_backlog_is_full(pair):
    server, _ = pair
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    hub = Hub(queue_size=3)
    subscriber = served(hub, server)
    ended = []
    subscriber.on_drop = lambda: ended.append(subscriber.closing)
    for number in range(10):
        hub.dispatch({"type": "task", "task_id": number, "line": "x" * 20000})
        gevent.sleep(0.01)  # the sender writes what the socket takes, then waits
    assert ended == [(1013, "too slow: reconnect")]
    assert hub.dropped == 1 and len(hub) == 0


def test_one_pinger_per_hub_pings_every_socket(pair):
    server, client = pair
    hub = Hub()
    served(hub, server)
    keep_pinging(hub, 0.05)
    pinger = hub.pinger
    keep_pinging(hub, 0.05)
    assert hub.pinger is pinger
    try:
        assert read_frames(client, 2) == [(0x9, b""), (0x9, b"")]
    finally:
        pinger.kill()

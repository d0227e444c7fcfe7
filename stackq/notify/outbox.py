"""One socket's way out, without a greenlet of its own while it keeps up.

Most sockets take a notice whole the moment it is published: the kernel's send buffer has
room for a few hundred bytes. So the hub's subscriber writes it then and there, without
waiting (`write_now`: a non-blocking send of a frame encoded once for every socket). Only a
socket that did not take all of it gets a sender greenlet, which writes the rest and then
whatever queued behind it (the hub's bounded backlog), and ends. Pings go the same way, from
one pinger greenlet per hub (`keep_pinging`).

Per socket that leaves one greenlet, the connection's own, which reads (pongs, the close):
with a sender and a reader greenlet each and a gevent queue, 10,000 sockets held 39 KB each
(benchmarks/notify.py), half of it in the two extra greenlets and the queue.
"""

import functools
import logging

import gevent
from geventwebsocket.websocket import Header, WebSocket

log = logging.getLogger(__name__)

PING = object()  # the hub's backlog item for a ping frame
PING_FRAME = Header.encode_header(True, WebSocket.OPCODE_PING, b"", 0, 0)
# Pings of that many sockets, then let other greenlets run before the next batch.
PING_BATCH = 500


@functools.lru_cache(maxsize=16)
def frame_of(message):
    """The frame of one message (the same bytes for every socket): a text frame, or a ping."""
    if message is PING:
        return PING_FRAME
    payload = message.encode("utf-8")
    return Header.encode_header(True, WebSocket.OPCODE_TEXT, b"", len(payload), 0) + payload


class Outbox:
    """Writes the hub's messages to one socket: at once when the socket takes them, else by a
    sender greenlet started for the purpose (see the module's docstring)."""

    def __init__(self, sock, subscriber):
        self.sock = sock  # the connection's gevent socket
        self.subscriber = subscriber
        self.tail = None  # what a write left unsent, for the sender to finish
        self.sender = None
        self.broken = False

    def write_now(self, message):
        """True if `message` is the socket's: sent, or its unsent tail left to a sender.
        False while a sender is busy (the hub queues it behind)."""
        if self.sender is not None or self.broken:
            return self.broken  # a broken socket takes anything: its reader ends it
        frame = frame_of(message)
        try:
            sent = self.sock.send(frame, 0, timeout=0.0)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.broken = True
            return True
        if sent < len(frame):
            self.tail = memoryview(frame)[sent:]
            self.wake()
        return True

    def wake(self):
        """Start the sender, unless it runs already (the hub queued a message)."""
        if self.sender is None and not self.broken:
            self.sender = gevent.spawn(self._send_backlog)

    def _send_backlog(self):
        try:
            if self.tail is not None:
                self.sock.sendall(self.tail)
                self.tail = None
            subscriber = self.subscriber
            while subscriber.backlog:  # made anew when it was empty: looked up each time
                self.sock.sendall(frame_of(subscriber.backlog.popleft()))
        except OSError:
            self.broken = True  # the client left mid-write: its reader sees it too
        finally:
            self.sender = None

    @property
    def mid_frame(self):
        """Whether a frame is half written (no other frame may follow it)."""
        return self.tail is not None or self.sender is not None

    def stop(self):
        sender = self.sender
        if sender is not None:
            sender.kill(block=False)


def keep_pinging(hub, interval):
    """The hub's one pinger greenlet (started by the first socket): every `interval` s a ping
    to every socket, which keeps proxies from closing them and finds the dead ones."""
    if getattr(hub, "pinger", None) is None:
        hub.pinger = gevent.spawn(_ping_forever, hub, interval)


def _ping_forever(hub, interval):
    while True:
        gevent.sleep(interval)
        try:
            hub.offer_all(PING, batch=PING_BATCH, between=lambda: gevent.sleep(0))
        except Exception:  # never let the pinger die: every socket would go silent
            log.exception("pinging the sockets failed")

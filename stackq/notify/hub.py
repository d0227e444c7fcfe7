"""The per-process hub: events from the one Redis subscriber, fanned out to this process's sockets.

After hypothesis/h's streamer: the subscriber never writes to a socket itself. It drops a
message into each socket's bounded queue and moves on; each socket's own sender drains its
queue. A socket whose queue is full is too slow to keep: it is dropped, and nobody waits.
"""

import json
import logging
import queue
import threading
import weakref

import gevent.queue

log = logging.getLogger(__name__)

# Event types browsers get; anything else on the channel (cache invalidations...) is internal.
FORWARDED_TYPES = ("query_updated", "task")
# Notices are rare (a cycle every few minutes, task progress): a client this far behind is
# not reading at all.
QUEUE_SIZE = 64

# Every hub of this process, so a server shutting down can close every socket.
_hubs = weakref.WeakSet()


class Subscriber:
    """One socket's place in the hub: a bounded queue and a way to cut it off.

    gevent's own queue: sockets are only ever served under gevent (and its Full and Empty
    are the standard library's, so the hub needs no gevent of its own).
    """

    def __init__(self, size):
        self.queue = gevent.queue.Queue(maxsize=size)
        self.dropped = False
        self.closing = None  # (code, reason) once the server wants it closed
        self.on_drop = None  # set by whoever serves the socket: stops its sender

    def offer(self, message):
        """Queue `message`; False (and dropped) when the queue is full."""
        try:
            self.queue.put_nowait(message)
            return True
        except queue.Full:
            self.drop((1013, "too slow: reconnect"))
            return False

    def drop(self, closing):
        self.dropped = True
        self.closing = closing
        if self.on_drop is not None:
            self.on_drop()


class Hub:
    def __init__(self, queue_size=QUEUE_SIZE):
        self.queue_size = queue_size
        self._subscribers = set()
        self._lock = threading.Lock()
        self.delivered = 0
        self.dropped = 0
        _hubs.add(self)

    def __len__(self):
        return len(self._subscribers)

    def subscribe(self):
        subscriber = Subscriber(self.queue_size)
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber):
        with self._lock:
            self._subscribers.discard(subscriber)

    def dispatch(self, event):
        """EventListener callback: queue a browser-facing event for every socket."""
        if not isinstance(event, dict) or event.get("type") not in FORWARDED_TYPES:
            return
        message = json.dumps(event, separators=(",", ":"))
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            if subscriber.offer(message):
                self.delivered += 1
            else:
                self.dropped += 1
                self.unsubscribe(subscriber)
                log.info("dropped a WebSocket client that stopped reading")

    def close_all(self, code=1001, reason="server going away"):
        with self._lock:
            subscribers, self._subscribers = list(self._subscribers), set()
        for subscriber in subscribers:
            subscriber.drop((code, reason))
        return len(subscribers)


def close_all_sockets(code=1001, reason="server going away"):
    """Close every WebSocket of this process (a server shutting down)."""
    return sum(hub.close_all(code, reason) for hub in list(_hubs))

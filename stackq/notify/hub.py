"""The per-process hub: events from the one Redis subscriber, fanned out to this process's sockets.

After hypothesis/h's streamer: the subscriber never waits on a socket. It writes a message to
each socket that takes it at once (stackq.notify.outbox), queues it in the bounded backlog of
each that does not, and moves on; a sender greenlet of that socket drains its backlog. A socket
whose backlog is full is too slow to keep: it is dropped, and nobody waits.
"""

import json
import logging
import threading
import weakref
from collections import deque

log = logging.getLogger(__name__)

# Event types browsers get; anything else on the channel (cache invalidations...) is internal.
FORWARDED_TYPES = ("query_updated", "task")
# Notices are rare (a cycle every few minutes, task progress): a client this far behind is
# not reading at all.
QUEUE_SIZE = 64

# Every hub of this process, so a server shutting down can close every socket.
_hubs = weakref.WeakSet()


class Subscriber:
    """One socket's place in the hub: a bounded backlog and a way to cut it off.

    `writer` (set by whoever serves the socket: stackq.notify.outbox) may take a message at
    once (`write_now`); what it does not take waits in `backlog` until its `wake()`-ed sender
    writes it. Without a writer every message waits in the backlog.
    """

    __slots__ = ("size", "backlog", "writer", "dropped", "closing", "on_drop")

    def __init__(self, size):
        self.size = size
        # A deque only once something waits: an empty one is 600 bytes, times every socket.
        self.backlog = ()
        self.writer = None
        self.dropped = False
        self.closing = None  # (code, reason) once the server wants it closed
        self.on_drop = None  # set by whoever serves the socket: ends it

    def offer(self, message):
        """Write or queue `message`; False (and dropped) when the backlog is full."""
        writer = self.writer
        if not self.backlog and writer is not None and writer.write_now(message):
            return True
        if len(self.backlog) >= self.size:
            self.drop((1013, "too slow: reconnect"))
            return False
        if not self.backlog:
            self.backlog = deque()
        self.backlog.append(message)
        if writer is not None:
            writer.wake()
        return True

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
        self.pinger = None  # stackq.notify.outbox.keep_pinging
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
        """EventListener callback: a browser-facing event to every socket."""
        if not isinstance(event, dict) or event.get("type") not in FORWARDED_TYPES:
            return
        self.offer_all(json.dumps(event, separators=(",", ":")))

    def offer_all(self, message, batch=None, between=None):
        """`message` to every socket, dropping the ones too far behind; `between()` is called
        after every `batch` of them (the pinger lets other greenlets run)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for number, subscriber in enumerate(subscribers, start=1):
            if subscriber.offer(message):
                self.delivered += 1
            else:
                self.dropped += 1
                self.unsubscribe(subscriber)
                log.info("dropped a WebSocket client that stopped reading")
            if batch and between is not None and number % batch == 0:
                between()

    def close_all(self, code=1001, reason="server going away"):
        with self._lock:
            subscribers, self._subscribers = list(self._subscribers), set()
        for subscriber in subscribers:
            subscriber.drop((code, reason))
        return len(subscribers)


def close_all_sockets(code=1001, reason="server going away"):
    """Close every WebSocket of this process (a server shutting down)."""
    return sum(hub.close_all(code, reason) for hub in list(_hubs))

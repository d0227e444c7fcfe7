"""One Redis pub/sub channel for events between stackq processes (one per Redis database).

Any process publishes (`publish`); each web process runs ONE `EventListener`
that hands every event to the callbacks registered with it: the WebSocket hub
fans `query_updated` out to browsers, the response cache drops local copies.
"""

import atexit
import json
import logging
import threading

import redis

from .registry import EVENTS, REDIS

log = logging.getLogger(__name__)

CHANNEL = "stackq:events"


def channel_of(redis_client) -> str:
    """The events channel of the Redis database `redis_client` uses.

    Redis pub/sub ignores the database number: two deployments (or two test suites) on
    one Redis in databases of their own would hear each other's events on one name.
    """
    db = int(redis_client.connection_pool.connection_kwargs.get("db") or 0)
    return CHANNEL if db == 0 else f"{CHANNEL}:{db}"


def publish(redis_client, event):
    """Send `event` (a JSON-able dict with a "type") to every listening process."""
    return redis_client.publish(channel_of(redis_client),
                                json.dumps(event, separators=(",", ":")))


class EventListener:
    """A subscriber on its own thread (a greenlet under gevent), reconnecting by itself."""

    def __init__(self, redis_client, channel=None, retry_delay=1.0):
        self.redis = redis_client
        self.channel = channel or channel_of(redis_client)
        self.retry_delay = retry_delay
        self.callbacks = []
        self.connected = threading.Event()
        self._stopping = threading.Event()
        self._thread = None

    def add(self, callback):
        """Call `callback(event)` for every event; a failing callback is logged, not fatal."""
        self.callbacks.append(callback)

    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stackq-events", daemon=True)
            self._thread.start()
            # Flagged before the process closes its Redis pools at exit (atexit runs the
            # last registered first): the listener then wakes to a closed socket, quietly.
            atexit.register(self.stop, 0)
        return self

    def stop(self, timeout=2.0):
        """End the listener (within a second); quiet about its channel closing from now on."""
        # Not by closing its subscription here: a PubSub is not for two threads at once.
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def dispatch(self, event):
        for callback in list(self.callbacks):
            try:
                callback(event)
            except Exception:
                log.exception("event callback %r failed on %r", callback, event)

    def _run(self):
        while not self._stopping.is_set():
            try:
                self._listen()
            # ValueError, TypeError: the socket was closed under us (the pool
            # disconnected, or the embedded Redis stopped, at exit).
            except (redis.RedisError, OSError, ValueError, TypeError) as error:
                self.connected.clear()
                if self._stopping.is_set():
                    break  # closed at exit, or under a listener told to stop
                log.warning("event channel lost (%s); retrying in %.0f s", error, self.retry_delay)
                self._stopping.wait(self.retry_delay)

    def _listen(self):
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
            self.connected.set()
            while not self._stopping.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message is None or message.get("type") != "message":
                    continue
                try:
                    event = json.loads(message["data"])
                except (TypeError, ValueError):
                    log.warning("ignoring a malformed event: %r", message["data"][:200])
                    continue
                self.dispatch(event)
        finally:
            self.connected.clear()
            pubsub.close()


def includeme(config):
    # Not started here: whoever registers the first callback starts it, so
    # scripts that never listen never open a subscription.
    config.registry[EVENTS] = EventListener(config.registry[REDIS])

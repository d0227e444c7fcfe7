"""One Redis client per process: the configured server (or the embedded one, see
`embedded_redis`), short timeouts and a circuit breaker.

Everything Redis holds can be lost, so a dead or slow Redis must cost the web
process almost nothing: connections time out fast, and a circuit breaker
shared by every connection of the process fails calls at once (no socket
touched) for a short, growing cool-down after a few failures in a row, then
lets one call through to see whether Redis is back.
"""

import logging
import time
import weakref
from urllib.parse import urlsplit

import redis
from redis.sentinel import Sentinel, SentinelConnectionPool, SentinelManagedConnection

from .embedded_redis import embedded_redis_url, track_pool
from .redis_url import SENTINEL_SCHEME, parse_sentinel_url
from .registry import REDIS, settings_of

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 0.05
# Replies take well under a millisecond; a quarter second means Redis is
# overloaded or gone, and the caller is better off without it.
SOCKET_TIMEOUT = 0.25

# The longest a process's breaker keeps Redis shut after it failed, once it is back: the
# API limiter waits this long for other processes to rejoin (stackexchange/limiter.py).
MAX_COOLDOWN = 5.0


class RedisUnavailable(redis.ConnectionError):
    """The circuit breaker is open: Redis failed just now, so it was not asked."""


class CircuitBreaker:
    """Opens after `threshold` failures in a row; closes on the first success.

    While open every call fails at once. When the cool-down ends, ONE
    connection is let through as a probe (the others keep failing fast); its
    failure reopens the breaker with twice the cool-down (up to
    `max_cooldown`), its success closes it. Greenlets switch only on I/O, so
    plain attributes are enough; under threads a race only admits a second probe.
    """

    def __init__(self, threshold=3, cooldown=0.5, max_cooldown=MAX_COOLDOWN, clock=time.monotonic):
        self.threshold = threshold
        self.base_cooldown = cooldown
        self.max_cooldown = max_cooldown
        self.clock = clock
        self.failures = 0
        self.cooldown = cooldown
        self.open_until = 0.0
        self.probe = None
        self.rejected = 0  # calls refused while open, for tests and /status

    @property
    def is_open(self):
        return self.failures >= self.threshold

    def allow(self, connection):
        """Raise RedisUnavailable unless `connection` may talk to Redis now."""
        if not self.is_open or self.probe is connection:
            return
        now = self.clock()
        if now >= self.open_until:
            self.probe = connection
            self.open_until = now + self.cooldown
            return
        self.rejected += 1
        raise RedisUnavailable(
            f"Redis failed {self.failures} times in a row; not asked again for"
            f" {self.open_until - now:.2f} s"
        )

    def succeeded(self):
        if self.failures:
            if self.is_open:
                log.warning("Redis answers again; circuit breaker closed")
            self.failures = 0
            self.cooldown = self.base_cooldown
            self.probe = None

    def failed(self, error):
        self.failures += 1
        if self.probe is not None or self.failures == self.threshold:
            if self.probe is None:
                log.warning("Redis failed %d times (%s); circuit breaker open", self.failures,
                            error)
            else:
                self.cooldown = min(self.cooldown * 2, self.max_cooldown)
            self.probe = None
            self.open_until = self.clock() + self.cooldown


NETWORK_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


class BreakerConnection:
    """Mixed into redis-py's connection classes: every socket use goes past `breaker`."""

    breaker = None  # set on the class made for each pool

    def connect(self):
        self.breaker.allow(self)
        try:
            super().connect()
        except RedisUnavailable:
            raise
        except NETWORK_ERRORS as error:
            self.breaker.failed(error)
            raise

    def send_packed_command(self, command, check_health=True):
        try:
            self.breaker.allow(self)
        except RedisUnavailable:
            self.disconnect()
            raise
        try:
            super().send_packed_command(command, check_health=check_health)
        except RedisUnavailable:
            raise
        except NETWORK_ERRORS as error:
            self.breaker.failed(error)
            raise

    def read_response(self, *args, **kwargs):
        try:
            response = super().read_response(*args, **kwargs)
        except NETWORK_ERRORS as error:
            self.breaker.failed(error)
            raise
        self.breaker.succeeded()
        return response


class MasterMoved(redis.RedisError):
    """Sentinel names another master than this process used: a failover. Raised once, by the
    first connection to see it (not a ConnectionError, so redis-py does not retry it away):
    callers treat it as Redis lost for a moment, and the API limiter falls back as after a
    restart, since what the old master took in its last moments may not have reached the
    new one."""


MASTER_CHECK = 1.0  # seconds between questions to the sentinels about where the master is

# What redis-py's Sentinel connection raises (a ConnectionError) for a READONLY reply: the
# master it talks to was demoted by a failover.
DEMOTED = "previous master is now a slave"


class BreakerSentinelConnection(BreakerConnection):
    """A Sentinel master's connection: tells a failover apart, and on a READONLY reply drops
    the pool's idle connections too (redis-py closes only the one that got it; every other
    one still talks to the demoted master and would fail its next command the same way)."""

    def connect_to(self, address):
        pool = self.connection_pool.connection_pool_ref()
        if pool is not None:
            pool.goes_to(address)
        super().connect_to(address)

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except redis.ConnectionError as error:
            pool = self.connection_pool.connection_pool_ref()
            if DEMOTED in str(error) and pool is not None:
                log.warning("Redis master %s:%s was demoted; asking Sentinel again",
                            self.host, self.port)
                pool.disconnect(inuse_connections=False)
            raise


def with_breaker(connection_class, breaker):
    mixin = (BreakerSentinelConnection if issubclass(connection_class, SentinelManagedConnection)
             else BreakerConnection)
    return type(f"Breaker{connection_class.__name__}", (mixin, connection_class),
                {"breaker": breaker})


def breaker_of(client):
    """The circuit breaker of a client made by `redis_from_settings`."""
    return client.connection_pool.connection_class.breaker


def redis_url(settings):
    return settings.redis_url or embedded_redis_url(settings.here)


class SentinelBlockingConnectionPool(SentinelConnectionPool, redis.BlockingConnectionPool):
    """A Sentinel master's pool that waits for a free connection, as the plain one does."""

    master_seen = None  # (host, port) of the master its connections last went to
    checked_at = 0.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.moved_callbacks = []  # weak methods, see on_master_moved

    def get_connection(self, *args, **kwargs):
        # Pooled connections keep talking to a demoted master until the sentinels reconfigure
        # it (seconds after a SENTINEL FAILOVER), while other processes use the new one: ask
        # the sentinels at most once a MASTER_CHECK instead of only on new connections.
        now = time.monotonic()
        if self.master_seen is not None and now - self.checked_at >= MASTER_CHECK:
            self.checked_at = now
            try:
                address = self.sentinel_manager.discover_master(self.service_name)
            except redis.ConnectionError:
                address = self.master_seen  # no sentinel knows better: keep to this one
            if address != self.master_seen:
                self.proxy.master_address = address  # connections to the old one are dropped
                self.disconnect(inuse_connections=False)
                self.goes_to(address)
        return super().get_connection(*args, **kwargs)

    def goes_to(self, address):
        """Record the master's address; MasterMoved (told to `moved_callbacks` too) if it
        moved since the last connection."""
        previous, self.master_seen = self.master_seen, address
        if previous is not None and previous != address:
            log.warning("Redis master moved from %s:%s to %s:%s", *previous, *address)
            error = MasterMoved(f"Redis master moved from {previous} to {address}")
            for ref in list(self.moved_callbacks):
                callback = ref()
                if callback is not None:
                    callback(error)
            raise error


def on_master_moved(client, method):
    """Call the bound `method(error)` when `client`'s master moves (Sentinel only): whoever's
    call meets the failover, the owner of `method` hears of it. Held weakly."""
    pool = getattr(client, "connection_pool", None)
    if isinstance(pool, SentinelBlockingConnectionPool):
        pool.moved_callbacks.append(weakref.WeakMethod(method))


def sentinel_master(url, **options):
    """The client of a `redis+sentinel://` URL's master: its pool asks the sentinels where
    the master is on every new connection, so it follows a failover."""
    target = parse_sentinel_url(url)
    sentinels = Sentinel(target.sentinels, sentinel_kwargs={
        "socket_connect_timeout": CONNECT_TIMEOUT, "socket_timeout": SOCKET_TIMEOUT,
        "password": target.sentinel_password})
    return sentinels.master_for(target.service, db=target.db, password=target.password,
                                connection_pool_class=SentinelBlockingConnectionPool,
                                **options)


def redis_from_settings(settings, max_connections=200, breaker=None):
    """One client over one blocking pool per process (a pool that raises when full fails
    requests under load; a client per request costs 6x), behind one circuit breaker.
    Call it once per process: with Sentinel too, the pool is what follows the master."""
    url = redis_url(settings)
    options = {
        "max_connections": max_connections,
        "timeout": 1,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": SOCKET_TIMEOUT,
        "health_check_interval": 30,
    }
    if urlsplit(url).scheme == SENTINEL_SCHEME:
        client = sentinel_master(url, **options)
    else:
        client = redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url(url, **options))
    pool = client.connection_pool
    pool.connection_class = with_breaker(pool.connection_class, breaker or CircuitBreaker())
    if not settings.redis_url:
        track_pool(pool)
    return client


def includeme(config):
    settings = settings_of(config.registry)
    config.registry[REDIS] = redis_from_settings(settings)
    config.add_request_method(
        lambda request: request.registry[REDIS], "redis", reify=True
    )

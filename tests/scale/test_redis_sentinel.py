"""stackq on a Redis Sentinel set (`redis+sentinel://`): one master, one replica, three
sentinels of our own. The master is switched twice, once demoted alive (SENTINEL FAILOVER:
clients still on it meet READONLY) and once killed -9; after each, within 20 s, the limiter is
shared again with the state it had (the writes the replica acknowledged, and what the
process knows itself), notices published on the new master are heard, and the
refresh lock is still held by the refresher that took it."""

import itertools
import logging
import threading
import time
import uuid

import pytest
import redis

from stackq.infra.pubsub import EventListener, publish
from stackq.infra.redis_client import redis_from_settings
from stackq.infra.registry import SETTINGS
from stackq.infra.settings import load_settings
from stackq.refresh.cycle import RefreshLock
from stackq.stackexchange import ApiAccess
from stackq.stackexchange.policy import Outcome
from tests.support.sentinels import has_redis_server, sentinel_set, wait_for_new_master
from tests.support.waiting import wait_until

pytestmark = pytest.mark.skipif(not has_redis_server(),
                                reason="no redis-server binary to run a Sentinel set with")

SWITCH = 20.0  # seconds the app may take to work on a new master


@pytest.fixture
def sentinels(tmp_path):
    with sentinel_set(tmp_path) as found:
        yield found


@pytest.fixture
def client(sentinels, tmp_path):
    settings = load_settings({"redis.url": sentinels.url, "sqlalchemy.url": "sqlite://"},
                             here=str(tmp_path), environ={})[SETTINGS]
    client = redis_from_settings(settings)
    yield client
    client.close()


class Notices:
    """A subscriber (the web process's listener) and a publisher that repeats a notice until
    it is heard: pub/sub drops what is sent while the subscriber reconnects."""

    def __init__(self, client):
        self.client = client
        self.heard = []
        self.listener = EventListener(client, retry_delay=0.2)
        self.listener.add(self.heard.append)
        self.listener.start()
        self.numbers = itertools.count()

    def round_trip(self, timeout=SWITCH):
        number = next(self.numbers)

        def heard():
            try:
                publish(self.client, {"type": "probe", "n": number})
            except redis.RedisError:
                return False
            time.sleep(0.1)
            return any(event.get("n") == number for event in self.heard)

        wait_until(heard, timeout, f"notice {number} heard", interval=0.1)


class Load:
    """A thread calling the API through the access layer and writing to Redis meanwhile."""

    def __init__(self, access, client):
        self.access, self.client = access, client
        self.errors, self.calls = [], 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stopping.is_set():
            try:
                self.access.fetch("info", site="stackoverflow", max_age=0)
                self.calls += 1
            except Exception as error:  # the test asserts there were none
                self.errors.append(("fetch", error))
            try:
                self.client.incr("stackq-test:sentinel:writes")
            except redis.ConnectionError:
                pass  # Redis being switched: callers treat it as down for a moment
            except redis.RedisError as error:
                self.errors.append(("incr", error))  # READONLY must never get here
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(10)


def answers(client):
    try:
        return client.ping()
    except redis.RedisError:
        return False


def on_port(client, failing=...):
    """The port of the Redis `client` talks to; `failing` if given, when that fails."""
    try:
        return int(client.info("server")["tcp_port"])
    except redis.RedisError:
        if failing is ...:
            raise
        return failing


def shared_again(access, port):
    def ready():
        try:
            return on_port(access.redis) == port and access.status().shared
        except redis.RedisError:
            return False
    wait_until(ready, SWITCH, f"the limiter shared again on master {port}", interval=0.1)


def test_the_app_follows_the_master_through_a_failover_and_a_kill(sentinels, client, mirrors,
                                                                  caplog, request):
    caplog.set_level(logging.WARNING)
    mirrors[0].configure(quota=100_000)  # calls as fast as the limiter allows, for a minute
    access = ApiAccess([mirrors[0].base_url], redis=client, timeout=2,
                       namespace=f"stackq-test:{uuid.uuid4().hex[:10]}")
    notices = Notices(client)
    request.addfinalizer(notices.listener.stop)
    first = sentinels.master_port
    assert on_port(client) == first
    assert access.fetch("info", site="stackoverflow").items
    # Limiter state to carry over: a back-off the API asked for, outlasting the test.
    grant = access.limiter.shared.acquire("questions", [0])
    access.limiter.release(grant, "questions", Outcome(ok=True, answered=True, backoff=600))
    notices.round_trip()
    refreshing = RefreshLock(client)  # a refresher's cycle, under way throughout
    assert refreshing.acquire()
    request.addfinalizer(refreshing.release)
    # A replica just synchronised streams the master's writes only after its first
    # acknowledgement, up to a second later: a failover meanwhile lost them all, the lock
    # among them (the back-off this process hands back itself: test_limiter_fallback.py).
    assert sentinels.replicated(first) == 1

    with Load(access, client) as during_failover:
        sentinels.failover()  # the master is demoted alive, under load
        second, took = wait_for_new_master(sentinels, first)
        # Not once the sentinels reconfigure the old master, seconds later: meanwhile other
        # processes would count the API's limits on the new one, this one on the old.
        wait_until(lambda: on_port(client, None) == second, 3.0,
                   "pooled connections on the new master")
        shared_again(access, second)
        notices.round_trip()
    sentinels.wait_ready(second, first, timeout=30)
    assert sentinels.replicated(second) == 1

    sentinels.kill(second)  # no API calls meanwhile: others meet the new master first
    third, took_killed = wait_for_new_master(sentinels, second)
    wait_until(lambda: answers(client), SWITCH, "the client on the new master")
    assert access.limiter.mode != "shared"  # it fell back though it made no call
    with Load(access, client) as load:  # the limiter rejoins on its next calls
        shared_again(access, third)
        notices.round_trip()
        wait_until(lambda: load.calls > 3 or load.errors, 10.0, "calls on the last master")

    assert third == first
    assert during_failover.errors == load.errors == []
    assert during_failover.calls > 0
    assert mirrors[0].stats()["violations"] == 0
    assert "questions" in access.status().mirrors[0].backoff
    assert not refreshing.lost.is_set()  # renewed on each new master
    assert not RefreshLock(client).acquire()  # and still held there
    assert not [r for r in caplog.records if r.exc_info or "READONLY" in r.getMessage()]
    print(f"failover: new master named in {took:.1f} s; kill -9: in {took_killed:.1f} s")
    access.reset()


def test_a_quiet_process_moves_to_the_new_master_within_seconds(sentinels, client):
    # One pooled connection and no new one: it would talk to the demoted master until the
    # sentinels reconfigure it, while busier processes count the API's limits on the new one.
    first = sentinels.master_port
    assert on_port(client) == first
    sentinels.failover()
    second, _ = wait_for_new_master(sentinels, first)
    wait_until(lambda: on_port(client, None) == second, 3.0, "the client on the new master")


def test_sentinels_and_a_master_with_passwords_of_their_own(tmp_path):
    with sentinel_set(tmp_path, password="m4ster", sentinel_password="s3ntinel") as guarded:
        settings = load_settings({"redis.url": guarded.url, "sqlalchemy.url": "sqlite://"},
                                 here=str(tmp_path), environ={})[SETTINGS]
        client = redis_from_settings(settings)
        try:
            client.set("stackq:test:guarded", "yes")
            assert guarded.client(guarded.master_port).get("stackq:test:guarded") == b"yes"
        finally:
            client.close()
        # Without the sentinels' password no sentinel says where the master is.
        unguarded = redis_from_settings(load_settings(
            {"redis.url": guarded.url.partition("?")[0], "sqlalchemy.url": "sqlite://"},
            here=str(tmp_path), environ={})[SETTINGS])
        try:
            with pytest.raises(redis.RedisError):
                unguarded.get("stackq:test:guarded")
        finally:
            unguarded.close()

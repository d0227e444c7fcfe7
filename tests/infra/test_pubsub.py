"""The events channel: one per Redis database, as the keys are."""

import json

import redis

from stackq.infra.pubsub import EventListener, channel_of, publish


def heard(listener_client, publisher_client):
    """What a listener on one client hears when the other publishes."""
    pubsub = listener_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(EventListener(listener_client).channel)
    try:
        pubsub.get_message(timeout=1.0)  # the subscription confirmed (and skipped)
        publish(publisher_client, {"type": "ping"})
        message = pubsub.get_message(timeout=1.0)
        return json.loads(message["data"]) if message else None
    finally:
        pubsub.close()


def test_two_databases_of_one_redis_do_not_hear_each_other(redis_url):
    server = redis_url.rsplit("/", 1)[0] if redis_url.startswith("redis://") else None
    if server is None:  # an embedded Redis over a socket: one database is enough to check
        client = redis.Redis.from_url(redis_url)
        assert heard(client, client) == {"type": "ping"}
        return
    one, other = (redis.Redis.from_url(f"{server}/{db}") for db in (14, 15))
    assert heard(one, one) == {"type": "ping"}
    assert heard(one, other) is None
    assert heard(other, other) == {"type": "ping"}


def test_database_zero_keeps_the_documented_name():
    assert channel_of(redis.Redis(db=0)) == "stackq:events"
    assert channel_of(redis.Redis(db=3)) == "stackq:events:3"

"""The per-process hub, on its own: fan-out through bounded queues, slow sockets dropped."""

import json

from stackq.notify.hub import Hub, close_all_sockets
from stackq.notify.publish import iso_utc, query_updated
from stackq.web.origins import normalized_origin, websocket_sources


def drain(subscriber):
    messages = []
    while subscriber.backlog:
        messages.append(json.loads(subscriber.backlog.popleft()))
    return messages


def notice(query_id):
    return {"type": "query_updated", "query_id": query_id}


def test_every_subscriber_gets_browser_events_only():
    hub = Hub()
    a, b = hub.subscribe(), hub.subscribe()
    hub.dispatch({"type": "cache_invalidated", "search_ids": [1]})
    hub.dispatch(notice(1))
    hub.dispatch({"type": "task", "task_id": 3, "progress": 0.5})
    hub.dispatch("not an event")
    assert [m["type"] for m in drain(a)] == ["query_updated", "task"]
    assert [m["type"] for m in drain(b)] == ["query_updated", "task"]


def test_a_subscriber_that_stops_reading_is_dropped_and_others_go_on():
    hub = Hub(queue_size=2)
    slow, fast = hub.subscribe(), hub.subscribe()
    stopped = []
    slow.on_drop = lambda: stopped.append("slow")
    for i in range(5):
        hub.dispatch(notice(i))
        drain_now = drain(fast)
        assert [m["query_id"] for m in drain_now] == [i]
    assert stopped == ["slow"]
    assert slow.dropped and slow.closing[0] == 1013
    assert len(hub) == 1 and hub.dropped == 1
    assert hub.delivered == 2 + 5  # slow took two before it filled up


def test_unsubscribed_sockets_get_nothing():
    hub = Hub()
    gone = hub.subscribe()
    hub.unsubscribe(gone)
    hub.dispatch(notice(1))
    assert drain(gone) == [] and len(hub) == 0


def test_close_all_says_going_away():
    hub = Hub()
    subscribers = [hub.subscribe() for _ in range(3)]
    assert close_all_sockets() >= 3
    assert all(s.closing == (1001, "server going away") for s in subscribers)
    assert len(hub) == 0


def test_notice_wording_follows_the_contract():
    from datetime import datetime, timedelta, timezone

    at = datetime(2026, 11, 22, 10, 0, 0, 123456)
    assert query_updated(7, "asyncio", "stackoverflow", 3, 5, 0, at) == {
        "type": "query_updated", "query_id": 7, "q": "asyncio", "site": "stackoverflow",
        "new": 3, "changed": 5, "removed": 0, "at": "2026-11-22T10:00:00Z"}
    aware = datetime(2026, 11, 22, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert iso_utc(aware) == "2026-11-22T10:00:00Z"


def test_origins_compare_scheme_host_and_port():
    assert normalized_origin("HTTP://Example.com") == "http://example.com:80"
    assert normalized_origin("https://example.com:443/") == "https://example.com:443"
    assert normalized_origin("http://example.com:8080") != normalized_origin("http://example.com")
    assert normalized_origin("null") is None
    assert normalized_origin("http://example.com:port") is None
    # An origin can end up in a header: nothing but a host name or address passes.
    assert normalized_origin("http://a; script-src *") is None
    assert normalized_origin("http://[::1]:6543") == "http://[::1]:6543"


def test_websocket_sources_are_the_ws_forms_of_the_allowed_origins():
    assert websocket_sources("http://localhost:6543", ["https://Friend.example", "junk"]) == [
        "ws://localhost:6543", "wss://friend.example:443"]

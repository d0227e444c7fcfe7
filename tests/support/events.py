"""What a test hears on the events channel (`stackq:events`)."""

import json
import time


def published(pubsub, kind, timeout):
    """Every event of type `kind` published on `pubsub` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            event = json.loads(message["data"])
            if event["type"] == kind:
                yield event


def every_event(pubsub, count, timeout):
    """The first `count` events of any type published on `pubsub`, in the order sent, or
    as many as came within `timeout` seconds."""
    found = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            found.append(json.loads(message["data"]))
    return found

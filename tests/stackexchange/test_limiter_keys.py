"""Every key a limiter script touches is one it was given in KEYS, and the KEYS of one run
share a hash slot (a Redis Cluster routes a script by its KEYS: a key the script makes up, or
one in another slot, could be on another node).

Each script runs wrapped: its `redis.call`s are recorded and returned beside its answer, and
Redis itself (COMMAND GETKEYS) says which arguments of each call are keys."""

import json
import time
import uuid

import pytest
import redis
from redis.crc import key_slot

from stackq.stackexchange.limiter import lua
from stackq.stackexchange.limiter.shared import SharedLimiter, as_text
from stackq.stackexchange.policy import Outcome

SCRIPTS = ("ACQUIRE", "CONFIRM", "CANCEL", "RELEASE", "ABSORB")

# The script's body becomes a function; a local `redis` records its calls (the real global
# table is read-only in Redis 7).
RECORDING = """
local real, calls = redis, {}
local redis = setmetatable({call = function(...)
  table.insert(calls, {...})
  return real.call(...)
end}, {__index = real})
local function body()
%s
end
local answer = body()
return {cjson.encode(calls), answer}
"""


class Recorded:
    """A script run wrapped; `undeclared` collects (script, command, key) it was not given."""

    def __init__(self, client, name, undeclared):
        self.client, self.name, self.undeclared = client, name, undeclared
        self.script = client.register_script(RECORDING % getattr(lua, name))
        self.calls = 0

    def __call__(self, keys, args):
        if len({key_slot(str(key).encode()) for key in keys}) > 1:
            self.undeclared.append((self.name, "KEYS in several slots", keys))
        calls, answer = self.script(keys=keys, args=args)
        for call in json.loads(calls):
            self.calls += 1
            for key in keys_of(self.client, [str(part) for part in call]):
                if key not in {str(k) for k in keys}:
                    self.undeclared.append((self.name, call[0], key))
        return answer


def keys_of(client, call):
    try:
        return [as_text(k) for k in client.command_getkeys(*call)]
    except redis.ResponseError:  # TIME and the like: no key at all
        return []


@pytest.fixture
def limiter(redis_url):
    client = redis.Redis.from_url(redis_url)
    shared = SharedLimiter(client, ["http://one.test", "http://two.test"], limit=1, window=1.0,
                           bound=3.0, namespace=f"stackq-test:{uuid.uuid4().hex[:10]}")
    shared.undeclared = []
    for name in SCRIPTS:
        setattr(shared, f"_{name.lower()}", Recorded(client, name, shared.undeclared))
    yield shared
    shared.reset()
    client.close()


def test_the_limiter_scripts_touch_only_the_keys_they_are_given(limiter):
    first = limiter.acquire("questions", [0], waiter="first")
    assert limiter.acquire("questions", [0], waiter="second").seconds >= 0  # queued: busy
    limiter.release(first, "questions", Outcome(ok=True, answered=True, backoff=1))
    # The script that freed the slot named the waiter; its wake list was pushed beside it.
    assert limiter.redis.llen(limiter._wake_key("second", "questions")) == 1
    reserved = limiter.acquire("answers", [1], waiter="second", max_delay=5)
    assert limiter.confirm(reserved, "answers") == ""
    limiter.cancel(reserved, "answers")
    background = limiter.acquire("answers", [1], waiter="refresher", background=True)
    limiter.acquire("answers", [1], waiter="someone")  # an interactive caller waits
    assert limiter.confirm(background, "answers", background=True) == "yield"
    limiter.absorb(0, time.time() + 5, "test", {"gone": time.time()},
                   {"questions": {"gone": time.time() + 3}}, {"questions": time.time() + 3})

    assert all(getattr(limiter, f"_{name.lower()}").calls for name in SCRIPTS)
    assert limiter.undeclared == []

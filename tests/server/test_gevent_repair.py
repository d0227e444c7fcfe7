"""gevent_repair.notify_without_yield: waking a waiter never switches greenlets with the
lock held (each case runs in a fresh interpreter, patched as a gevent server is)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# `other` is ready to run when the first greenlet wakes a waiter while holding the lock:
# it must run only after that greenlet has let go of the lock.
CONDITION = """
import threading
condition = threading.Condition(threading.Lock())
def first():
    with condition:
        order.append("notify"); condition.notify(); order.append("notified")
gevent.joinall([gevent.spawn(first), gevent.spawn(order.append, "other")])
"""
# What redis-py's BlockingConnectionPool does when a connection comes back while another
# greenlet waits for one (under gunicorn it holds the stdlib LifoQueue, imported unpatched).
POOL = """
q = LifoQueue()
def waiting():
    q.get(); order.append("got")
def first():
    order.append("notify"); q.put_nowait("connection"); order.append("notified")
waiter = gevent.spawn(waiting); gevent.sleep(0)
gevent.joinall([gevent.spawn(first), gevent.spawn(order.append, "other"), waiter])
"""
PRELUDE = """
import json
import sys
from queue import LifoQueue
import gevent.monkey
gevent.monkey.patch_all()
import gevent
from stackq.infra.gevent_repair import notify_without_yield
if sys.argv[1] == "repaired":
    assert notify_without_yield() is True
    assert notify_without_yield() is False  # once is enough
order = []
"""


def order_of(case, variant):
    code = PRELUDE + case + "print(json.dumps(order))\n"
    done = subprocess.run([sys.executable, "-c", code, variant], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("case", [CONDITION, POOL], ids=["condition", "connection pool"])
def test_waking_a_waiter_does_not_switch_with_the_lock_held(case):
    assert order_of(case, "repaired")[:3] == ["notify", "notified", "other"]


@pytest.mark.parametrize("case", [CONDITION, POOL], ids=["condition", "connection pool"])
def test_unrepaired_gevent_switches_with_the_lock_held(case):
    # What the repair is for; if gevent stops doing this, the repair can go.
    assert order_of(case, "unrepaired")[:3] == ["notify", "other", "notified"]


def test_conditions_over_an_rlock_keep_its_own_ownership_check():
    code = PRELUDE + """
import threading
rlock = threading.RLock()
condition = threading.Condition(rlock)
assert condition._is_owned == rlock._is_owned
with condition:
    assert condition._is_owned()
assert not condition._is_owned()
plain = threading.Condition(threading.Lock())
assert not plain._is_owned()
with plain:
    assert plain._is_owned()
"""
    done = subprocess.run([sys.executable, "-c", code, "repaired"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

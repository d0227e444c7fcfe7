"""The one `wait_until` of the tests."""

import time


def wait_until(condition, timeout=5.0, what=None, interval=0.02):
    """`condition()`'s first truthy value, asked every `interval` s; AssertionError after
    `timeout` seconds, naming `what` it waited for."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for "
                                 f"{what or getattr(condition, '__name__', 'a condition')}")
        time.sleep(interval)

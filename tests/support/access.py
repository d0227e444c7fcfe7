"""ApiAccess objects that stand for processes: each its own, all on one fresh Redis namespace,
so they share only what the real processes share."""

import contextlib
import threading
import uuid

import redis

from stackq.infra.settings import Rate
from stackq.stackexchange import ApiAccess


@contextlib.contextmanager
def accesses_on_one_namespace(redis_url, mirrors):
    """A `make(urls=None, **options)` of ApiAccess objects on `mirrors`; `make.redis` is the
    client they share. Every one is reset on the way out."""
    client = redis.Redis.from_url(redis_url)
    namespace = f"stackq-test:{uuid.uuid4().hex[:10]}"
    made = []

    def make(*, urls=None, **options):
        options.setdefault("timeout", 2)
        options.setdefault("max_rate", Rate(100, 1))
        urls = urls or [m.base_url for m in mirrors]
        access = ApiAccess(urls, redis=client, namespace=namespace, **options)
        made.append(access)
        return access

    make.redis = client
    try:
        yield make
    finally:
        for access in made:
            access.reset()
        client.close()


def run_threads(count, target):
    """Run `target(i)` on `count` threads; returns what each returned or raised."""
    results = [None] * count

    def run(i):
        try:
            results[i] = target(i)
        except Exception as exc:  # returned to the test, which asserts on it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results

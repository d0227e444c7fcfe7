"""The reliability suite's own app: a database and a redis-server of its own, so that what
a request commits (or must not) is counted for real, outside the suite's rolled-back tests."""

from urllib.parse import urlencode

import pytest

from tests.reliability.rawwsgi import Visitor
from tests.reliability.traces import csrf_token_of
from tests.support.apps import stackq_app
from tests.support.database import prepared_engine, separate_database
from tests.support.redis import private_redis


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory, emulator):
    """(database URL, Redis URL) of this module alone."""
    tmp = tmp_path_factory.mktemp("reliability")
    with separate_database(tmp) as db_url, private_redis(tmp) as redis_url:
        yield db_url, redis_url


@pytest.fixture(scope="module")
def own_settings(own_stack, emulator):
    db_url, redis_url = own_stack
    return {"sqlalchemy.url": db_url, "redis.url": redis_url,
            "stackq.api.urls": emulator.base_url, "stackq.api.timeout": "2",
            "stackq.cache.ttl": "60"}


@pytest.fixture(scope="module")
def own_engine(own_settings, emulator):
    with prepared_engine(own_settings, emulator.base_url) as engine:
        yield engine


@pytest.fixture(scope="module")
def own_app(request, own_settings, own_engine):
    return stackq_app(own_settings, own_engine, request.addfinalizer)


def save_search(visitor, q="python", site="stackoverflow"):
    """Save a search through the form; its id."""
    body = urlencode({"q": q, "site": site, "csrf_token": csrf_token_of(visitor)}).encode()
    answer = visitor.request("POST", "/queries", body=body,
                             content_type="application/x-www-form-urlencoded")
    assert answer.status == 303, answer.body
    return int(answer.headers["Location"].rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def saved(own_app, emulator):
    """A visitor and the id of one saved search with page 1 stored."""
    emulator.reset()
    visitor = Visitor(own_app)
    search_id = save_search(visitor)
    assert visitor.request("GET", f"/queries/{search_id}").status == 200
    return visitor, search_id

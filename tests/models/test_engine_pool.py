"""Each process keeps a connection open for every request the admission gate lets in at once."""

import contextlib

from stackq import models
from stackq.server import admission


def kept_after(engine, at_once):
    """Connections still open in the pool after `at_once` were in use together."""
    with contextlib.ExitStack() as stack:
        for _ in range(at_once):
            stack.enter_context(engine.connect())
    kept = engine.pool.checkedin()
    engine.dispose()
    return kept


def test_as_many_connections_stay_open_as_requests_are_let_in(database_url):
    engine = models.get_engine({"sqlalchemy.url": database_url})
    assert kept_after(engine, admission.DEFAULT_SIZE) == admission.DEFAULT_SIZE


def test_the_ini_file_can_set_the_pool_size(database_url):
    engine = models.get_engine({"sqlalchemy.url": database_url, "sqlalchemy.pool_size": "3"})
    assert kept_after(engine, 6) == 3

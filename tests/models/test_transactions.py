"""A request's session commits and aborts with its own transaction manager, and only it."""

import pytest
import transaction
from sqlalchemy import create_engine, func, select

from stackq import models
from stackq.models import Site


@pytest.fixture
def factory(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/joins.sqlite")
    models.Base.metadata.create_all(engine)
    yield models.get_session_factory(engine)
    engine.dispose()


def site(name):
    return Site(api_site_parameter=name, name=name, site_url=f"https://{name}.com")


def names(factory):
    with factory() as session:
        return sorted(session.scalars(select(Site.api_site_parameter)))


def manager():
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    return tm


def test_a_write_commits_with_the_sessions_manager(factory):
    tm = manager()
    models.get_tm_session(factory, tm).add(site("kept"))
    tm.commit()
    assert names(factory) == ["kept"]


def test_an_abort_discards_the_write(factory):
    tm = manager()
    dbsession = models.get_tm_session(factory, tm)
    dbsession.add(site("dropped"))
    dbsession.flush()
    tm.abort()
    assert names(factory) == []


def test_each_session_follows_its_own_manager(factory):
    first, second = manager(), manager()
    models.get_tm_session(factory, first).add(site("first"))
    models.get_tm_session(factory, second).add(site("second"))
    second.abort()
    first.commit()
    assert names(factory) == ["first"]


def test_a_commit_outside_the_manager_is_refused(factory):
    dbsession = models.get_tm_session(factory, manager())
    dbsession.add(site("direct"))
    with pytest.raises(AssertionError):
        dbsession.commit()


def test_a_session_without_a_manager_is_joined_to_nothing(factory):
    with factory() as session:
        session.add(site("plain"))
        session.commit()
    assert names(factory) == ["plain"]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Site)) == 1

"""Databases for tests: a PostgreSQL database of their own, a schema at head with the sites."""

import contextlib
import os
import re
import socket
import uuid

import alembic.command
import alembic.config
import transaction
from sqlalchemy import create_engine, text

from stackq import models
from stackq.infra.settings import load_settings
from stackq.models.initialize_db import bundled_sites, fetch_sites, load_sites
from stackq.stackexchange import ApiAccess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INI = os.path.join(ROOT, "development.ini")
POSTGRES_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def answers(host, port):
    """True if something accepts a TCP connection on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def database_kind():
    return os.environ.get("STACKQ_TEST_DB", "sqlite")


@contextlib.contextmanager
def new_postgres_database():
    """A PostgreSQL database of its own (its URL), dropped after."""
    name = f"stackq_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield re.sub(r"/postgres$", f"/{name}", POSTGRES_ADMIN_URL)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def separate_database(directory):
    """A new empty database of the kind STACKQ_TEST_DB names (its URL); dropped after."""
    if database_kind() != "postgresql":
        yield f"sqlite:///{directory}/stackq.sqlite"
        return
    with new_postgres_database() as url:
        yield url


@contextlib.contextmanager
def empty_engine(directory):
    """An engine on a new empty database (`separate_database`), for migration tests."""
    with separate_database(directory) as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def migrate(engine, step, revision):
    """Run alembic's `step` (alembic.command.upgrade or downgrade) to `revision` on `engine`."""
    config = alembic.config.Config(INI)
    config.attributes.update(settings={"sqlalchemy.url": engine.url}, engine=engine,
                             skip_logging=True)
    step(config, revision)


def prepare_database(raw_settings, api_url):
    """An engine on the schema at head (alembic, as initialize_db does) with the API's sites."""
    settings = load_settings(raw_settings, environ={})
    engine = models.get_engine(settings)
    config = alembic.config.Config(INI)
    config.attributes.update(settings=settings, engine=engine, skip_logging=True)
    alembic.command.upgrade(config, "head")
    with transaction.manager:
        dbsession = models.get_tm_session(models.get_session_factory(engine), transaction.manager)
        # The bundled list when an earlier test left the emulator failing.
        load_sites(dbsession, fetch_sites(ApiAccess([api_url])) or bundled_sites())
    return engine


@contextlib.contextmanager
def prepared_engine(raw_settings, api_url):
    """`prepare_database`'s engine, disposed after."""
    engine = prepare_database(raw_settings, api_url)
    try:
        yield engine
    finally:
        engine.dispose()


"""A database never set up, or set up by an older version, is a 503 that names initialize_db:
no traceback, on either database."""

import logging

import alembic.command
import alembic.config
import pytest
import webtest
from sqlalchemy import text

from stackq import models
from tests.support.apps import stackq_app
from tests.support.database import INI, prepare_database, separate_database

# Every page that reads the database (the forms do not).
PAGES = ["/", "/status", "/queries/1", "/queries/1/export.csv", "/tasks", "/tasks/1"]


@pytest.fixture
def empty_database(tmp_path, app_settings):
    with separate_database(tmp_path) as url:
        engine = models.get_engine({"sqlalchemy.url": url})
        yield {**app_settings, "sqlalchemy.url": url}, engine
        engine.dispose()


def answers(settings, engine, paths):
    app = webtest.TestApp(stackq_app(settings, engine))
    return {path: app.get(path, expect_errors=True) for path in paths}


def assert_set_up_first(answered, caplog):
    for path, response in answered.items():
        assert response.status_int == 503, (path, response.status)
        assert "Database not set up" in response.text and "initialize_db" in response.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    assert any("run initialize_db" in r.getMessage() for r in caplog.records)


def test_every_page_before_initialize_db_says_to_run_it(empty_database, caplog):
    caplog.set_level(logging.WARNING)
    assert_set_up_first(answers(*empty_database, PAGES), caplog)


def test_a_schema_behind_the_code_says_to_run_it(empty_database, emulator, caplog):
    settings, engine = empty_database
    prepare_database(settings, emulator.base_url).dispose()
    config = alembic.config.Config(INI)
    config.attributes.update(settings={"sqlalchemy.url": engine.url}, engine=engine,
                             skip_logging=True)
    alembic.command.downgrade(config, "0004")  # questions.tags is 0005's
    with engine.begin() as db:
        db.execute(text("INSERT INTO saved_searches (site_id, q, tagged, created_at) SELECT id,"
                        " 'python', '', CURRENT_TIMESTAMP FROM sites"
                        " WHERE api_site_parameter = 'stackoverflow'"))
    caplog.set_level(logging.WARNING)
    # The results page stores what it fetches; the report reads the stored tags.
    assert_set_up_first(answers(settings, engine, ["/queries/1", "/queries/1/export.csv"]),
                        caplog)


def test_a_set_up_database_is_no_such_error(empty_database, emulator):
    settings, engine = empty_database
    prepare_database(settings, emulator.base_url).dispose()
    assert answers(settings, engine, ["/"])["/"].status_int == 200

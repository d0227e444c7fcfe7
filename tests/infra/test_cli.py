"""What the command-line scripts share."""

from sqlalchemy.exc import OperationalError

from stackq.infra.cli import database_failed


def test_a_failed_database_is_one_line_with_its_likely_cause():
    error = OperationalError("SELECT 1", {}, Exception("no such table: saved_searches"))
    assert database_failed(error, "development.ini") == (
        "the database failed ((builtins.Exception) no such table: saved_searches); is the schema"
        " there? (initialize_db development.ini)")

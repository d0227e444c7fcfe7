"""A results page is a fixed, small number of SQL statements, whatever its rows."""

import pytest
from sqlalchemy import event

from tests.test_pages import create_search

# The search, whether its upstream page is stored, the rows with owners, their tags,
# and how many results are stored.
STATEMENTS_PER_PAGE = 5


@pytest.fixture
def statements(dbengine):
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(dbengine, "before_cursor_execute", count)
    yield seen
    event.remove(dbengine, "before_cursor_execute", count)


def page_statements(testapp, dbsession, statements, url):
    testapp.get(url)  # stores the upstream page, if it is not yet
    dbsession.expunge_all()  # the test's one session would remember the search
    del statements[:]
    page = testapp.get(url)
    assert page.html.select("tr[data-question-id]")
    return len(statements)


@pytest.mark.parametrize("query", ["per_page=25", "per_page=100", "per_page=50&page=2",
                                   "sort=votes&order=asc", "sort=title", "sort=views&page=2"])
def test_a_stored_page_is_a_fixed_number_of_statements(testapp, dbsession, csrf, statements,
                                                      query):
    search_id = create_search(testapp, csrf)
    testapp.get(f"/queries/{search_id}?per_page=100&page=1")  # stored rows for DB sorts
    testapp.get(f"/queries/{search_id}?per_page=100&page=2")
    assert page_statements(testapp, dbsession, statements, f"/queries/{search_id}?{query}") == \
        STATEMENTS_PER_PAGE

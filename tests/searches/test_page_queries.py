"""A results page is a fixed, small number of SQL statements, whatever its rows."""

import pytest
from sqlalchemy import event

from tests.support.searches import create_search

# The search with its site and how many results are stored (in an upstream order, and whether
# its upstream page is), then the rows with their owners and tags.
STORED_SORT_STATEMENTS = 2
UPSTREAM_SORT_STATEMENTS = 2


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


@pytest.mark.parametrize(("query", "expected"), [
    ("per_page=25", UPSTREAM_SORT_STATEMENTS), ("per_page=100", UPSTREAM_SORT_STATEMENTS),
    ("per_page=50&page=2", UPSTREAM_SORT_STATEMENTS),
    ("sort=votes&order=asc", UPSTREAM_SORT_STATEMENTS),
    ("sort=title", STORED_SORT_STATEMENTS), ("sort=views&page=2", STORED_SORT_STATEMENTS)])
def test_a_stored_page_is_a_fixed_number_of_statements(testapp, dbsession, csrf, statements,
                                                      query, expected):
    search_id = create_search(testapp, csrf)
    testapp.get(f"/queries/{search_id}?per_page=100&page=1")  # stored rows for DB sorts
    testapp.get(f"/queries/{search_id}?per_page=100&page=2")
    assert page_statements(testapp, dbsession, statements, f"/queries/{search_id}?{query}") == \
        expected


def home_statements(testapp, statements):
    del statements[:]
    testapp.get("/")
    return list(statements)


SEARCHES = {"stackoverflow": "python", "superuser": "windows"}


@pytest.mark.parametrize("sites", [("stackoverflow",), ("stackoverflow", "superuser")])
def test_the_home_page_reads_the_plan_once(testapp, csrf, statements, sites):
    for site in sites:
        search_id = create_search(testapp, csrf, q=SEARCHES[site], site=site)
        # Stored questions: the site counts in the plan.
        assert testapp.get(f"/queries/{search_id}").html.select("tr[data-question-id]")
    # The searches listed, the last cycle, the plan's searches, and every site's stored count
    # with its re-read ages: one statement each, however many sites, none read twice.
    assert len(home_statements(testapp, statements)) == 4

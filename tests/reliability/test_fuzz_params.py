"""Hypothesis over every page's query parameters: any query string is a page or a 4xx with a
message, never a 5xx, and never an error in the log."""

import logging
import re
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.traces import stored_counts

NAMES = ["page", "per_page", "sort", "order", "q", "site", "tagged", "id", "x"]
VALUES = st.one_of(
    st.sampled_from(["1", "2", "25", "50", "100", "activity", "votes", "title", "views", "asc",
                     "desc", "", "0", "-1", "99999999999999999999", "%", "%zz", "%00", "%ff"]),
    st.integers(min_value=-10**20, max_value=10**20).map(str),
    st.text(max_size=40).map(lambda text: quote(text, safe="")),  # as a browser sends it
    st.text(max_size=40).map(lambda text: text.encode().decode("latin-1")),  # raw UTF-8 bytes
    st.binary(max_size=20).map(lambda raw: quote_from_bytes(raw, safe="")),
)
QUERY = st.lists(st.tuples(st.sampled_from(NAMES) | st.text(max_size=8), VALUES),
                 max_size=6).map(
    lambda pairs: "&".join(f"{quote_from_bytes(n.encode(), safe='')}={v}" for n, v in pairs))


class Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def error_log():
    handler = Errors()
    logging.getLogger().addHandler(handler)
    yield handler.records
    logging.getLogger().removeHandler(handler)


@pytest.mark.parametrize("path", ["/", "/queries/new", "/queries/{id}", "/status"])
def test_any_query_string_is_a_page_or_a_clear_4xx(saved, own_engine, emulator, error_log,
                                                    path):
    visitor, search_id = saved
    path = path.replace("{id}", str(search_id))
    before = stored_counts(own_engine)

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(query=QUERY)
    def one(query):
        answer = visitor.request("GET", path, query=query)
        assert answer.status < 500, (query, answer.body[:300])
        if answer.status >= 400:
            assert re.search(r'<p class="error" role="alert">\s*\S', answer.body), query
        assert error_log == [], query

    one()
    # GETs store nothing but pages of results fetched on demand: no new search, no new site.
    after = stored_counts(own_engine)
    assert after["saved_searches"] == before["saved_searches"]

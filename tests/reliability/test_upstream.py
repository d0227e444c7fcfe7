"""A failing Stack Exchange API, through the emulator's switches: each fault gives the right
page or a retry on another mirror, the stored results stay intact, and no call breaks a limit."""

import pytest

from stackq.infra import registry
from stackq.stackexchange import ApiAccess
from stackq.testing.emulator_data import HOSTILE_QUESTION_IDS
from tests.support.reading import shown_ids
from tests.support.searches import create_search

# fault -> status of a page that needs the API while it lasts
FAULTS = {"500": 503, "503": 503, "garbage": 502, "truncated": 502, "throttle": 502,
          "reset": 503, "timeout": 503}


def stored_rows(testapp, search):
    return [shown_ids(testapp.get(f"/queries/{search}", {"per_page": 100, "sort": sort}))
            for sort in ("title", "views")]


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_is_a_clear_page_and_the_stored_rows_stay(testapp, csrf, upstream, fault):
    search = create_search(testapp, csrf)
    before = stored_rows(testapp, search)
    upstream.configure(ban_seconds=1)  # a throttled mirror is free again in a second
    upstream.set_fault(fault, count=1 if fault == "timeout" else None)
    answer = testapp.get(f"/queries/{search}", {"page": 3}, status=FAULTS[fault])
    assert "Stack Exchange API failed" in answer.html.find("h1").text
    assert "Traceback" not in answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    upstream.set_fault(None)
    assert stored_rows(testapp, search) == before
    # Once the API is back the same page comes.
    assert testapp.get(f"/queries/{search}", {"page": 3}).status_int == 200
    assert upstream.stats()["violations"] == 0


def test_a_used_up_quota_is_503_with_retry_after_and_stored_rows_stay(testapp, csrf, upstream):
    upstream.configure(quota=3)
    search = create_search(testapp, csrf)  # the total filter made, then the total
    testapp.get(f"/queries/{search}")
    before = stored_rows(testapp, search)
    answer = testapp.get(f"/queries/{search}", {"page": 7}, status=503)
    assert "quota" in answer.text and answer.headers["Retry-After"].isdigit()
    assert stored_rows(testapp, search) == before


@pytest.fixture
def two_mirrors(testapp, mirrors):
    """The app calling both emulated mirrors."""
    app = testapp.app
    settings = app.registry.settings[registry.SETTINGS]
    access = ApiAccess([emu.base_url for emu in mirrors], timeout=1.0,
                       redis=app.registry[registry.REDIS], max_rate=settings.api_max_rate,
                       cache_ttl=0)
    access.reset()
    previous, app.registry[registry.API] = app.registry[registry.API], access
    yield mirrors
    app.registry[registry.API] = previous


@pytest.mark.parametrize("fault", ["reset", "timeout", "500"])
def test_a_mirror_that_stops_answering_is_left_for_the_other(testapp, csrf, two_mirrors, fault):
    dead, alive = two_mirrors
    dead.set_fault(fault)
    alive_before = alive.stats()["requests"]
    search = create_search(testapp, csrf)
    for sort, page in (("activity", 2), ("votes", 3), ("creation", 2), ("votes", 5)):
        answer = testapp.get(f"/queries/{search}", {"page": page, "sort": sort})
        assert answer.status_int == 200 and len(shown_ids(answer)) == 25
    # Every page came, from the mirror that answers.
    assert alive.stats()["requests"] - alive_before >= 4
    assert dead.stats()["violations"] == alive.stats()["violations"] == 0


def test_text_no_database_stores_comes_through_as_replacement_characters(testapp, csrf,
                                                                          upstream):
    """A NUL and half a surrogate pair in a title (valid JSON escapes): PostgreSQL refused
    the page's questions, neither database encodes the half pair. The page is stored and
    shown, each of them a U+FFFD."""
    upstream.retitle("stackoverflow", HOSTILE_QUESTION_IDS["script"], "nul\x00title \ud800!")
    search = create_search(testapp, csrf)
    page = testapp.get(f"/queries/{search}", {"per_page": 100, "sort": "activity"})
    assert "nul\ufffdtitle \ufffd!" in [a.get_text() for a in page.html.select("a")]

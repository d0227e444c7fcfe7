"""notify.js in headless Chromium: the panel appears after a refresh, and survives a restart."""

import pytest

from stackq.infra.clock import utcnow
from stackq.infra.pubsub import publish
from stackq.notify import query_updated
from tests.support.browser import (
    By,
    WebDriverWait,
    chromium,
    notice_line,
    require_chromium,
    ws_state,
)
from tests.support.serverproc import free_port
from tests.support.stack import run_refresher, running_web

require_chromium()

# A key: the refresh plan then refreshes every search in every cycle, at any time of day.
STACK_SETTINGS = {"stackq.api.key": "browser-tests"}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium")) as driver:
        yield driver


def test_results_page_shows_the_refresh_and_reconnects_after_a_restart(
        browser, stack, upstream):
    stack.clean()
    search_id = stack.save_search("asyncio")
    port = free_port()
    with running_web("pserve", stack.ini, port=port) as server:
        browser.get(f"{server.url}/queries/{search_id}")
        ws_state(browser, "open")
        mutated = upstream.mutate("stackoverflow", "asyncio", new=3, changed=5)
        assert run_refresher(stack.ini, "--once", "--force").returncode == 0

        line = notice_line(browser, search_id, "3 new, 5 changed in 'asyncio'")
        # On the search's own page the panel offers to reload it in place.
        line.find_element(By.CSS_SELECTOR, "button.stackq-reload").click()
        WebDriverWait(browser, 10).until(
            lambda b: not b.find_elements(By.ID, "stackq-notices"), "the page to reload")
        newest = browser.find_element(By.CSS_SELECTOR, "table.results tbody tr")
        assert int(newest.get_attribute("data-question-id")) in mutated["new"]
        ws_state(browser, "open")

    ws_state(browser, "closed")
    with running_web("pserve", stack.ini, port=port) as server:
        ws_state(browser, "open")  # by itself: nobody reloaded the page
        publish(stack.redis, query_updated(search_id, "asyncio", "stackoverflow", 1, 0, 0,
                                           utcnow()))
        notice_line(browser, search_id, "1 new in 'asyncio'")

        # Elsewhere, the notice links to the search.
        browser.get(f"{server.url}/")
        ws_state(browser, "open")
        publish(stack.redis, query_updated(search_id, "asyncio", "stackoverflow", 0, 2, 0,
                                           utcnow()))
        link = notice_line(browser, search_id, "2 changed in 'asyncio' — reload")
        anchor = link.find_element(By.TAG_NAME, "a")
        assert anchor.get_attribute("href") == f"{server.url}/queries/{search_id}"
        # And to what changed in it: the search's history.
        changes = link.find_element(By.CSS_SELECTOR, "a.stackq-changes")
        assert changes.get_attribute("href") == f"{server.url}/queries/{search_id}/changes"
        assert "Last refresh cycle" in browser.find_element(By.CLASS_NAME, "refresh-run").text

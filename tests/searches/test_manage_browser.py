"""Pause, resume and delete in headless Chromium on a real server: the buttons of the cached
pages (`/`, the results page) carry no token of their own, so a first visit confirms once
with a fresh token, and later clicks go straight through (csrf_form.js copies the cookie)."""

import pytest

from tests.support.browser import By, WebDriverWait, chromium, require_chromium, text_of
from tests.support.manage import is_paused
from tests.support.stack import running_web

require_chromium()

STACK_SETTINGS = {"stackq.api.key": "manage-browser-tests"}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium")) as driver:
        yield driver


def click(browser, selector):
    browser.find_element(By.CSS_SELECTOR, selector).click()


def landed(browser, path):
    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith(path), f"at {path}")


def row_says(browser, search_id, state):
    """Wait for `/` to show the search's refreshing `state` ("Paused" or "On"), read in one
    script each time: the page may be navigating meanwhile."""
    WebDriverWait(browser, 10).until(
        lambda b: text_of(b, f'tr[data-query-id="{search_id}"] td:last-child').split()[:1]
        == [state], f"the search shown {state}")


def test_pause_resume_and_delete_from_the_pages(browser, clean):
    search_id = clean.save_search("asyncio")
    with running_web("pserve", clean.ini) as server:
        browser.get(server.url + "/")
        click(browser, f'tr[data-query-id="{search_id}"] form.pause button')
        # No CSRF cookie yet (every page so far was a cached one): asked once, with a token.
        WebDriverWait(browser, 10).until(lambda b: "Pause “asyncio”?" in b.page_source)
        assert not is_paused(clean, search_id)
        click(browser, "main form button[type=submit]")
        row_says(browser, search_id, "Paused")
        assert is_paused(clean, search_id)

        click(browser, f'tr[data-query-id="{search_id}"] form.resume button')  # straight
        row_says(browser, search_id, "On")
        assert not is_paused(clean, search_id)

        browser.get(f"{server.url}/queries/{search_id}")
        click(browser, "a.delete")
        landed(browser, f"/queries/{search_id}/delete")
        click(browser, "main form button[type=submit]")
        WebDriverWait(browser, 10).until(lambda b: text_of(b, "h1") == "Saved searches")
        assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-query-id="{search_id}"]')
        browser.get(f"{server.url}/queries/{search_id}")
        assert f"there is no saved search {search_id}" in browser.page_source

"""Tasks in headless Chromium: /api/docs renders with no request leaving the app, and the
results page's "Refresh now" queues a refresh (confirming once when no token is known)."""

import json
import re
import urllib.request

import pytest

from tests.support.browser import By, WebDriverWait, chromium, require_chromium, text_of
from tests.support.stack import open_stack, running_web

require_chromium()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    # Every request the page makes, from the DevTools network events.
    with chromium(tmp_path_factory.mktemp("chromium"),
                  capabilities={"goog:loggingPrefs": {"performance": "ALL"}}) as driver:
        yield driver


def requested_urls(browser):
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_docs_render_offline_from_the_app_alone(browser, tmp_path, emulator):
    with open_stack(tmp_path, emulator.base_url) as stack, \
            running_web("pserve", stack.ini) as server:
        browser.get("about:blank")
        requested_urls(browser)  # drains what the browser asked for before the page
        browser.get(f"{server.url}/api/docs")
        WebDriverWait(browser, 20).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"),
            "Swagger UI to list the operations")
        paths = {e.text.replace("\u200b", "") for e in
                 browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
        assert {"/api/tasks", "/api/tasks/{id}", "/api/tasks/results"} <= paths
        assert "stackq tasks" in browser.find_element(By.CSS_SELECTOR, ".info .title").text
        urls = requested_urls(browser)
    assert f"{server.url}/api/openapi.json" in urls
    outside = [url for url in urls if not url.startswith((server.url + "/", "data:"))]
    assert outside == []


def task_shown(browser, server):
    """The task the browser was sent to (the 303 after queueing, to its live page), as the
    JSON API tells it."""
    WebDriverWait(browser, 10).until(lambda b: re.search(r"/tasks/\d+$", b.current_url))
    task_id = browser.current_url.rsplit("/", 1)[1]
    with urllib.request.urlopen(f"{server.url}/api/tasks/{task_id}", timeout=10) as answer:
        return json.load(answer)


def test_refresh_now_queues_a_refresh_from_the_cached_results_page(browser, tmp_path, emulator):
    with open_stack(tmp_path, emulator.base_url) as stack, \
            running_web("pserve", stack.ini) as server:
        search_id = stack.save_search("asyncio")
        browser.delete_all_cookies()
        browser.get(f"{server.url}/queries/{search_id}")
        browser.find_element(By.CSS_SELECTOR, "form.refresh-now button").click()
        # No CSRF cookie yet (the results page sets none): one confirmation, with a token.
        WebDriverWait(browser, 10).until(lambda b: "now?" in text_of(b, "h1"))
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        first = task_shown(browser, server)
        # Now the cookie is there: the button queues at once.
        browser.get(f"{server.url}/queries/{search_id}")
        browser.find_element(By.CSS_SELECTOR, "form.refresh-now button").click()
        second = task_shown(browser, server)
    assert [(t["kind"], t["params"]) for t in (first, second)] == [
        ("refresh", {"query_id": search_id})] * 2
    assert second["number"] == first["number"] + 1

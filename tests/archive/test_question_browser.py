"""A hostile body and its answers on the question page, in headless Chromium: their text
shown, nothing run, no request to another host (the https image is stored, not loaded)."""

import json

import pytest
from selenium.common.exceptions import NoAlertPresentException

from stackq.testing.emulator_data import HOSTILE_QUESTION_IDS
from tests.support.browser import By, require_chromium
from tests.support.browser import chromium as open_chromium
from tests.support.stack import open_stack, running_web

require_chromium()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    logs = {"goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"}}
    with open_chromium(tmp_path_factory.mktemp("chromium"), capabilities=logs) as driver:
        yield driver


def test_a_hostile_body_reads_as_text_and_reaches_no_other_host(chromium, tmp_path, emulator):
    emulator.reset()
    with open_stack(tmp_path, emulator.base_url) as stack:
        stack.save_search("python")
        with running_web("pserve", stack.ini) as server:
            chromium.get(f"{server.url}/questions/stackoverflow/{HOSTILE_QUESTION_IDS['script']}")
            body = chromium.find_element(By.CSS_SELECTOR, "article.question .body")
            assert "Hover text" in body.text and "framed text" in body.text
            ran = "main script, main iframe, main form, main [onerror], main [onmouseover]"
            assert chromium.find_elements(By.CSS_SELECTOR, ran) == []
            with pytest.raises(NoAlertPresentException):
                chromium.switch_to.alert  # noqa: B018  (an alert() would be open now)
            images = chromium.find_elements(By.CSS_SELECTOR, "article.question .body img")
            assert [i.get_attribute("src") for i in images if i.get_attribute("src")] == [
                "https://i.stack.imgur.com/chart.png"]
            elsewhere, blocked = requests_elsewhere(chromium, server.url)
            assert elsewhere and all(blocked.get(i) == "csp" for i in elsewhere), (elsewhere,
                                                                                 blocked)


def requests_elsewhere(driver, own):
    """({request id: URL} of requests to another host, {request id: why it was blocked})."""
    events = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    elsewhere = {e["params"]["requestId"]: e["params"]["request"]["url"] for e in events
                 if e["method"] == "Network.requestWillBeSent"
                 and e["params"]["request"]["url"].startswith("http")
                 and not e["params"]["request"]["url"].startswith(own)}
    blocked = {e["params"]["requestId"]: e["params"].get("blockedReason") for e in events
               if e["method"] == "Network.loadingFailed"}
    return elsewhere, blocked

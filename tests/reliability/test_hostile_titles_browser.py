"""Hostile titles, search texts and notices in headless Chromium: shown as text, never run."""

import pytest
from selenium.common.exceptions import NoAlertPresentException

from stackq.infra.clock import utcnow
from stackq.infra.pubsub import publish
from stackq.notify import query_updated
from stackq.testing.emulator import HOSTILE_TITLES
from tests.support.browser import By, notice_line, require_chromium, ws_state
from tests.support.browser import chromium as open_chromium
from tests.support.stack import open_stack, running_web

require_chromium()

MARK = '<img src=x onerror="window.pwned=1">'
HOSTILE_Q = f"<script>window.pwned=2</script>{MARK}"


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    with open_chromium(tmp_path_factory.mktemp("chromium")) as driver:
        yield driver


def nothing_ran(driver):
    # Escaped, not merely blocked by the Content-Security-Policy: no element was made of it.
    assert driver.find_elements(By.CSS_SELECTOR, "main img, main script, title *") == []
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018  (an alert() would be open now)
    return driver.execute_script("return window.pwned === undefined")


def test_hostile_text_is_shown_never_run(chromium, tmp_path, emulator):
    emulator.reset()
    with open_stack(tmp_path, emulator.base_url) as stack:
        python = stack.save_search("python")
        hostile = stack.save_search(HOSTILE_Q)
        with running_web("pserve", stack.ini) as server:
            chromium.get(f"{server.url}/queries/{python}")
            titles = [a.text for a in chromium.find_elements(By.CSS_SELECTOR, "a.question")]
            assert HOSTILE_TITLES["script"] in titles and HOSTILE_TITLES["img"] in titles
            assert nothing_ran(chromium)

            chromium.get(f"{server.url}/queries/{hostile}")
            assert HOSTILE_Q in chromium.title
            assert nothing_ran(chromium)

            chromium.get(f"{server.url}/")
            assert HOSTILE_Q in chromium.find_element(By.TAG_NAME, "main").text
            ws_state(chromium, "open")
            publish(stack.redis, query_updated(hostile, HOSTILE_Q, "stackoverflow", 1, 0, 0,
                                               utcnow()))
            line = notice_line(chromium, hostile, HOSTILE_Q)
            assert line.find_elements(By.TAG_NAME, "img") == []
            assert nothing_ran(chromium)

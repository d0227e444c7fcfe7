"""Headless Chromium for the browser tests (Debian's chromium and chromium-driver)."""

import contextlib
import os
import shutil

import pytest

try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    webdriver = By = WebDriverWait = None

# CI installs selenium, chromium and chromedriver (.ci/run): there a missing one fails the
# run; elsewhere the test says what is missing and is skipped.
IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")
MISSING = "needs selenium, chromium and chromedriver (apt-get install chromium chromium-driver)"

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


def require_chromium():
    """Skip the calling test module when the browser is missing; fail in CI (call at import)."""
    if webdriver is None or not (CHROMIUM and CHROMEDRIVER):
        if IN_CI:
            pytest.fail(f"CI=true but the browser test cannot run: {MISSING}", pytrace=False)
        pytest.skip(MISSING, allow_module_level=True)


@contextlib.contextmanager
def chromium(profile_dir, window_size=None, capabilities=None):
    """A headless Chromium driven by selenium, on a profile of its own; quit after."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    for name, value in (capabilities or {}).items():
        options.set_capability(name, value)
    if window_size:
        options.add_argument(f"--window-size={window_size}")
    options.add_argument(f"--user-data-dir={profile_dir}")
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def text_of(browser, selector):
    """The text of the first element `selector` matches ("" if none), read in one script: a
    page navigating meanwhile cannot leave a stale element handle behind."""
    return browser.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
        selector)


def ws_state(browser, state, timeout=20):
    WebDriverWait(browser, timeout).until(
        lambda b: b.execute_script("return document.documentElement.dataset.wsState") == state,
        f"the page's WebSocket to be {state}")


def notice_line(browser, query_id, text, timeout=15):
    """The notices panel's line for `query_id`, once it reads `text`."""
    selector = f'#stackq-notices [data-query-id="{query_id}"]'

    def line(b):
        found = b.find_elements(By.CSS_SELECTOR, selector)
        return found[0] if found and text in found[0].text else None

    return WebDriverWait(browser, timeout).until(line, f"a notice reading {text!r}")


def click(browser, selector):
    browser.find_element(By.CSS_SELECTOR, selector).click()

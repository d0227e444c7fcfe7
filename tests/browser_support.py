"""Headless Chromium for the browser tests (Debian's chromium and chromium-driver)."""

import contextlib
import os
import shutil

import pytest

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


def require_chromium():
    """Skip the calling test module when Chromium is missing, outside CI (call at import)."""
    if not (CHROMIUM and CHROMEDRIVER) and not os.environ.get("CI"):
        # CI installs them (.ci/run); elsewhere say what is missing instead of failing.
        pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)",
                    allow_module_level=True)


@contextlib.contextmanager
def chromium(profile_dir, window_size=None):
    """A headless Chromium driven by selenium, on a profile of its own; quit after."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    if window_size:
        options.add_argument(f"--window-size={window_size}")
    options.add_argument(f"--user-data-dir={profile_dir}")
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def ws_state(browser, state, timeout=20):
    WebDriverWait(browser, timeout).until(
        lambda b: b.find_element(By.TAG_NAME, "html").get_attribute("data-ws-state") == state,
        f"the page's WebSocket to be {state}")

"""In headless Chromium on a real server with accounts on: deleting a search asks to sign in
first, the sign-in form leads back to the deletion, and then it goes through."""

import pytest

from tests.support.accounts import AUTH_ON, PASSWORD, clean_accounts, make_user
from tests.support.browser import (
    By,
    WebDriverWait,
    chromium,
    click,
    require_chromium,
    text_of,
)
from tests.support.stack import running_web

require_chromium()

STACK_SETTINGS = {**AUTH_ON, "stackq.api.key": "accounts-browser-tests"}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium")) as driver:
        yield driver


def heading_is(browser, text):
    WebDriverWait(browser, 10).until(lambda b: text_of(b, "h1").startswith(text),
                                     f"a page headed {text!r}")


def test_sign_in_then_delete_a_search(browser, clean):
    clean_accounts(clean)
    make_user(clean, "alice")
    search_id = clean.save_search("asyncio")
    with running_web("pserve", clean.ini) as server:
        browser.get(f"{server.url}/queries/{search_id}/delete")
        click(browser, "main form button[type=submit]")  # not the header's search box
        heading_is(browser, "Sign in first")
        click(browser, "main a.sign-in")
        heading_is(browser, "Sign in")
        browser.find_element(By.ID, "username").send_keys("alice")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        click(browser, "main form button[type=submit]")
        WebDriverWait(browser, 10).until(
            lambda b: b.current_url.endswith(f"/queries/{search_id}/delete"), "back at delete")
        assert text_of(browser, ".account-name") == "alice"
        click(browser, "main form button[type=submit]")
        heading_is(browser, "Saved searches")
        assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-query-id="{search_id}"]')
        browser.get(f"{server.url}/queries/{search_id}")
        assert f"there is no saved search {search_id}" in browser.page_source

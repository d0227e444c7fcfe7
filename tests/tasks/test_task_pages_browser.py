"""The live task page in headless Chromium, on a real server with a real worker: the bar and
the log move without a reload, the browser lands on the completed form; a closed tab does not
stop the task; Cancel. Screenshots of the running page and the completed form go to
var/screenshots/ (not committed) for people to look at."""

import os
import re
import time

import pytest

from stackq.tasks import claim
from stackq.tasks.queue import add_task
from tests.support.browser import By, WebDriverWait, chromium, require_chromium, ws_state
from tests.support.task_pages import (
    flow_form_fields,
    flow_start_page,
    fresh_flow,
    running_flow,
    task_id_of,
)
from tests.support.tasks import load_task
from tests.support.waiting import wait_until

require_chromium()

SCREENSHOTS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "var", "screenshots")
TASK_PAGE = re.compile(r"/tasks/(\d+)$")
# What the page tells the test, read in one go (window.stackqLoads marks this page load).
SAMPLE = """
var bar = document.querySelector("progress");
return {path: location.pathname, load: window.stackqLoad || null,
        value: bar ? bar.value : null, lines: document.querySelectorAll(".task-log li").length,
        meta: !!document.querySelector('meta[http-equiv="refresh"]'),
        live: (document.getElementById("task") || {getAttribute: function () { return null; }})
              .getAttribute("data-live-updates")};
"""


# Run before the page's own scripts: WebSockets go nowhere while window.stackqHold is true.
HOLD = r"""
window.stackqHold = true;
window.WebSocket = class extends WebSocket {
  constructor(url, protocols) {
    // Held: a path of the app's own that refuses the upgrade (404), which the page's
    // Content-Security-Policy (connect-src 'self') lets it try.
    super(window.stackqHold ? url.replace(/\/ws$/, "/held") : url, protocols);
  }
};
"""


@pytest.fixture(scope="module")
def running(tmp_path_factory, emulator):
    # One API call a second: a task of several pages runs for several seconds.
    with running_flow(tmp_path_factory.mktemp("task-browser"), emulator.base_url,
                      max_rate=1) as flow:
        yield flow


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium"), window_size="1200,900") as driver:
        yield driver


@pytest.fixture
def flow(running, upstream):
    return fresh_flow(running)


def start_task(browser, flow):
    """Start the flow's task from its form, as a person would; the task's id."""
    path, selector = flow_start_page(flow)
    browser.get(flow.url + "/tasks/new")  # the visitor's CSRF cookie (Refresh now reads it)
    browser.get(flow.url + path)
    form = browser.find_element(By.CSS_SELECTOR, selector)
    for name, value in flow_form_fields(flow).items():
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: TASK_PAGE.search(b.current_url),
                                     "the task's page")
    return int(TASK_PAGE.search(browser.current_url).group(1))


def sample(browser):
    return browser.execute_script(SAMPLE)


def screenshot(browser, name):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    browser.save_screenshot(os.path.join(SCREENSHOTS, name))


def landed_on_the_form(browser, flow, task_id, timeout=30):
    WebDriverWait(browser, timeout).until(
        lambda b: b.current_url == f"{flow.url}/tasks/new?completed={task_id}",
        "the completed form")
    return browser.find_element(By.TAG_NAME, "h1").text


def test_the_bar_and_the_log_move_without_a_reload_then_the_form_says_completed(
        browser, flow):
    task_id = start_task(browser, flow)
    ws_state(browser, "open")
    WebDriverWait(browser, 10).until(lambda b: sample(b)["live"] == "on", "live updates")
    browser.execute_script("window.stackqLoad = 'first';")
    on_page, shot = [], False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = sample(browser)
        if not TASK_PAGE.search(seen["path"]):
            break
        on_page.append(seen)
        if not shot and 0.3 < seen["value"] < 0.9:
            screenshot(browser, "task-running.png")
            shot = True
        time.sleep(0.1)
    assert on_page and all(s["load"] == "first" for s in on_page), "the page reloaded"
    assert not any(s["meta"] for s in on_page), "the meta refresh is switched off"
    values = [s["value"] for s in on_page]
    assert values == sorted(values) and len({v for v in values if 0 < v < 1}) >= 2, values
    assert on_page[-1]["lines"] > on_page[0]["lines"], "log lines appeared"
    assert shot, "no screenshot of the running page"

    number = load_task(flow.stack, task_id).number
    assert landed_on_the_form(browser, flow, task_id) == f"Task #{number} completed"
    link = browser.find_element(By.CSS_SELECTOR, "a.task-results-link")
    assert link.get_attribute("href") == f"{flow.url}/queries/{flow.search_id}"
    screenshot(browser, "task-completed.png")


def test_a_closed_tab_does_not_stop_the_task_and_reopening_shows_where_it_is(browser, flow):
    first = browser.current_window_handle
    browser.switch_to.new_window("tab")
    task_id = start_task(browser, flow)
    WebDriverWait(browser, 20).until(lambda b: 0 < sample(b)["value"] < 0.6, "progress")
    left_at = sample(browser)["value"]
    browser.close()
    browser.switch_to.window(first)

    went_on = wait_until(lambda: (load_task(flow.stack, task_id).progress > left_at) and
                         load_task(flow.stack, task_id).progress, 20, "the task to go on")
    browser.get(f"{flow.url}/tasks/{task_id}")
    if TASK_PAGE.search(browser.current_url):
        assert sample(browser)["value"] >= went_on
    number = load_task(flow.stack, task_id).number
    assert landed_on_the_form(browser, flow, task_id) == f"Task #{number} completed"


def test_cancel_a_waiting_task_from_its_page(browser, flow):
    browser.get(f"{flow.url}/tasks/new")
    form = browser.find_element(By.CSS_SELECTOR, "form.task-form")
    for name, value in {"q": "asyncio", "pages": "2", "delay": "600"}.items():
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: TASK_PAGE.search(b.current_url), "its page")
    task_id = task_id_of(browser.current_url)
    state = browser.find_element(By.CSS_SELECTOR, ".task-state")
    assert state.text in ("waiting to start in 10 min", "waiting to start in 9 min 59 s")
    WebDriverWait(browser, 5).until(  # counting down by itself
        lambda b: re.fullmatch(r"waiting to start in 9 min 5\d s", state.text), "a countdown")
    browser.find_element(By.CSS_SELECTOR, "form.task-cancel button").click()
    number = load_task(flow.stack, task_id).number
    assert landed_on_the_form(browser, flow, task_id) == f"Task #{number} cancelled"
    reason = browser.find_element(By.CSS_SELECTOR, ".task-reason").text
    assert reason == "Cancelled before it started."


def test_when_the_socket_drops_the_page_goes_back_to_reloading(browser, running, upstream):
    flow = fresh_flow(running, pages=14)  # a task of 15 API calls, 15 s
    task_id = start_task(browser, flow)
    WebDriverWait(browser, 10).until(lambda b: sample(b)["live"] == "on", "live updates")
    browser.execute_script("window.stackqLoad = 'before';")
    flow.restart_web()  # the page's socket closes; what the task does meanwhile is not sent

    def reloaded(b):
        seen = sample(b)
        # From the new server: live again, or (if the task ended meanwhile) on the form.
        return seen["load"] is None and (seen["live"] == "on" or "completed" in seen["path"]
                                         or "completed" in b.current_url) and seen

    WebDriverWait(browser, 25).until(reloaded, "the page to reload from the new server")
    number = load_task(flow.stack, task_id).number
    assert landed_on_the_form(browser, flow, task_id) == f"Task #{number} completed"


def test_what_happened_before_the_socket_opened_is_caught_up(browser, flow):
    # A task run by the test's own hand (stackq.tasks.claim): its rows change, no notice goes.
    with flow.stack.session_factory.begin() as dbsession:
        task = add_task(dbsession, "refresh", {"query_id": flow.search_id}, delay=60)
        task_id, due = task.id, task.run_after
    claim.heartbeat(flow.stack.session_factory, "test-worker")
    assert claim.claim_next(flow.stack.session_factory, "test-worker", now=due).id == task_id
    claim.record(flow.stack.session_factory, task_id, "test-worker", "page 1", progress=0.25)
    # The page's socket cannot open until the test says so (it dials a closed port).
    hold = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOLD})
    try:
        browser.get(f"{flow.url}/tasks/{task_id}")
        browser.execute_script("window.stackqLoad = 'first';")
        claim.record(flow.stack.session_factory, task_id, "test-worker", "page 2", progress=0.5)
        assert sample(browser)["live"] is None  # no socket yet
        browser.execute_script("window.stackqHold = false;")
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", hold)

    def caught_up(b):
        seen = sample(b)
        return seen["live"] == "on" and seen["value"] == 0.5 and seen

    seen = WebDriverWait(browser, 10).until(caught_up, "the page to catch up")
    assert seen["load"] == "first" and seen["lines"] == 2
    log = browser.find_element(By.CSS_SELECTOR, ".task-log").text
    assert log.splitlines()[-1].endswith(" page 2")
    claim.finish(flow.stack.session_factory, task_id, "test-worker", "cancelled")

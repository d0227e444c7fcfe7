"""`make screenshots`: the PNGs in docs/screenshots/, taken from a real stackq in headless Chromium.

It starts what `make demo` starts, on free ports: the bundled API emulator, then the web app and
the refresher (`python -m stackq.server.run`) on a SQLite file and an embedded Redis of their own
in a temporary directory (or on the Redis of `STACKQ_REDIS_URL`, when set). The API is called
once a second at most (`STACKQ_API_MAX_RATE=1`), so a harvest of a few pages runs long enough to
be photographed while it runs. Three searches are saved through the form, as a browser saves
them; a harvest is started from /tasks/new; questions of one search change upstream (the
emulator's control endpoint) and "Refresh now" records them in its history; Debian's chromium
(driven by chromedriver through selenium) saves each page at 1280x900.

    .venv/bin/python docs/screenshots.py [--keep]     # --keep: leave the temporary directory
"""

import argparse
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")
WIDTH, HEIGHT = 1280, 900
SEARCHES = (("python", "stackoverflow"), ("asyncio", "stackoverflow"), ("nginx", "serverfault"))
HARVEST = {"q": "python", "site": "stackoverflow", "pages": "8"}
TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')
TASK_PAGE = re.compile(r"/tasks/(\d+)$")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, seconds, what):
    """Until `url` answers 200 (or `seconds` pass: then SystemExit naming `what`)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.2)
    raise SystemExit(f"screenshots: {what} did not answer at {url} within {seconds} s")


@contextlib.contextmanager
def process(command, log_path, env=None):
    """`command` running (in a process group of its own), its output in `log_path`; stopped
    with SIGTERM after (SIGKILL if it does not stop within 20 s)."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=ROOT, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def app_env(tmp, api_url):
    """The environment of stackq's processes: no STACKQ_* of the caller's but the Redis."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("STACKQ_") or k == "STACKQ_REDIS_URL"}
    # Accounts off, as `make demo` runs: the pictures show the pages, not the sign-in.
    env.update(STACKQ_SQLALCHEMY_URL=f"sqlite:///{tmp}/stackq.sqlite",
               STACKQ_API_URLS=api_url, STACKQ_API_MAX_RATE="1", STACKQ_AUTH_ENABLED="false")
    return env


def copy_ini(tmp):
    """production.ini (no debug toolbar in the pictures) copied into `tmp`, so that `here`
    is `tmp`: the embedded Redis keeps its file in `tmp`/var/."""
    ini = Path(tmp) / "stackq.ini"
    shutil.copyfile(ROOT / "production.ini", ini)
    return ini


def save_search(base_url, q, site):
    """Save a search through the form, as a browser does (token, POST, 303); its id."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base_url + "/queries/new", timeout=30).read().decode()
    form = {"q": q, "site": site, "tagged": "", "csrf_token": TOKEN.search(page).group(1)}
    with opener.open(base_url + "/queries", urllib.parse.urlencode(form).encode(),
                     timeout=60) as answer:
        return int(answer.geturl().rstrip("/").rsplit("/", 1)[1])


@contextlib.contextmanager
def chromium(profile_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.add_argument(f"--window-size={WIDTH},{HEIGHT}")
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    # The page itself 1280x900 (the window's size leaves less to the page).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1,
                            "mobile": False})
    try:
        yield driver
    finally:
        driver.quit()


def shoot(browser, name):
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    browser.save_screenshot(str(path))
    print(f"screenshots: {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


def progress(browser):
    return browser.execute_script(
        "var bar = document.querySelector('progress'); return bar ? bar.value : null;")


def harvest(browser, base_url):
    """Start the harvest from /tasks/new; photograph its page running, then the form it ends on."""
    browser.get(base_url + "/tasks/new")
    form = browser.find_element(By.CSS_SELECTOR, "form.task-form")
    for name, value in HARVEST.items():
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda b: TASK_PAGE.search(b.current_url), "the task page")
    task_id = TASK_PAGE.search(browser.current_url).group(1)
    WebDriverWait(browser, 60).until(
        lambda b: TASK_PAGE.search(b.current_url) and 0.4 <= (progress(b) or 0) < 0.9,
        "the harvest to be under way")
    shoot(browser, "task-running.png")
    WebDriverWait(browser, 120).until(
        lambda b: b.current_url.endswith(f"/tasks/new?completed={task_id}"), "the task to end")
    shoot(browser, "task-completed.png")


def changes(browser, base_url, api_url, search_id, q):
    """Questions of the search change upstream, "Refresh now" is pressed, and its history
    page shows what changed."""
    control = api_url.rsplit("/", 1)[0] + "/_emulator/mutate"
    body = json.dumps({"site": "stackoverflow", "q": q, "new": 2, "changed": 4}).encode()
    urllib.request.urlopen(urllib.request.Request(
        control, body, {"Content-Type": "application/json"}), timeout=30).read()
    browser.get(f"{base_url}/queries/{search_id}")
    browser.find_element(By.CSS_SELECTOR, "form.refresh-now button").click()
    page = f"{base_url}/queries/{search_id}/changes"

    def shown(b):
        b.get(page)
        return b.find_elements(By.CSS_SELECTOR, "ol.changes li.change-changed")

    WebDriverWait(browser, 120, poll_frequency=2).until(shown, "the refresh to record changes")
    shoot(browser, "changes.png")


def question(browser, base_url, search_id):
    """The stored copy of the search's most answered question on its first page, opened
    from its title in the results table (its answers fetched on this first open)."""
    browser.get(f"{base_url}/queries/{search_id}?sort=answers&order=desc")
    browser.find_element(By.CSS_SELECTOR, "table.results a[href*='/questions/']").click()
    WebDriverWait(browser, 60).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "article.answer"), "the stored answers")
    shoot(browser, "question.png")


def search(browser, base_url):
    """The header's search box: every stored question, ranked and highlighted, with facets."""
    browser.get(base_url + "/")
    box = browser.find_element(By.CSS_SELECTOR, "form.search-box input[name=q]")
    box.send_keys('asyncio "event loop" is:answered')
    box.submit()
    WebDriverWait(browser, 30).until(lambda b: "/search" in b.current_url, "the search page")
    shoot(browser, "search.png")


def take(base_url, tmp, api_url):
    searches = [save_search(base_url, q, site) for q, site in SEARCHES]
    with chromium(Path(tmp) / "chromium") as browser:
        harvest(browser, base_url)
        browser.get(base_url + "/")
        shoot(browser, "home.png")
        browser.get(f"{base_url}/queries/{searches[1]}")
        shoot(browser, "results.png")
        question(browser, base_url, searches[1])
        search(browser, base_url)
        changes(browser, base_url, api_url, searches[1], SEARCHES[1][0])
        browser.get(base_url + "/status")
        shoot(browser, "status.png")
        browser.get(base_url + "/api/docs")
        WebDriverWait(browser, 30).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, "#swagger-ui .opblock"), "Swagger UI")
        shoot(browser, "api-docs.png")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="docs/screenshots.py", description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    for needed in (CHROMIUM, CHROMEDRIVER):
        if not os.access(needed, os.X_OK):
            raise SystemExit(f"screenshots: {needed} is missing "
                             "(apt-get install chromium chromium-driver)")
    tmp = tempfile.mkdtemp(prefix="stackq-screenshots-")
    emulator_port, web_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{emulator_port}/2.3"
    base_url = f"http://127.0.0.1:{web_port}"
    done = False
    try:
        with process([sys.executable, "-m", "stackq.testing.emulator", "--port",
                      str(emulator_port)], Path(tmp) / "emulator.log"):
            wait_for(api_url + "/info?site=stackoverflow", 30, "the emulator")
            env, ini = app_env(tmp, api_url), copy_ini(tmp)
            with open(Path(tmp) / "initialize_db.log", "wb") as log:
                subprocess.run([str(BIN / "initialize_db"), str(ini)], env=env, check=True,
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            app = [sys.executable, "-m", "stackq.server.run", str(ini),
                   f"http_port={web_port}", "host=127.0.0.1"]
            with process(app, Path(tmp) / "app.log", env=env):
                wait_for(base_url + "/", 60, "stackq")
                take(base_url, tmp, api_url)
        done = True
    finally:
        if done and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"screenshots: the run's files and logs are in {tmp}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""The task pages end to end: a stack of its own (tests/support/stack.py) served by `pserve`,
a real `refresh_queries --tasks-only` running its tasks, and a visitor without JavaScript.

FLOW_KIND is the kind of task the end-to-end flows run: `harvest` (FLOW_PAGES pages of
"python", started from the /tasks/new form, as a visitor would); `refresh` (a saved search
with several stored pages, refreshed from the results page's "Refresh now") runs the same
tests on the other kind.
"""

import contextlib
import http.cookiejar
import re
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from bs4 import BeautifulSoup

from tests.support import serverproc
from tests.support.stack import open_stack, running_web, start_refresher
from tests.support.tasks import clean_tasks

FLOW_KIND = "harvest"
FLOW_PAGES = 6  # stored pages refreshed, or pages harvested
FLOW_QUERY = "python"


class Flow:
    """Stack, web server and task worker; `search_id` is set by fresh_flow()."""

    def __init__(self, stack, exits):
        self.stack = stack
        self.exits = exits
        self.search_id = None
        self.pages = FLOW_PAGES
        self.server = exits.enter_context(running_web("pserve", stack.ini))

    @property
    def url(self):
        return self.server.url

    def restart_web(self):
        """Stop the web server (open pages lose their socket) and serve again on its port."""
        serverproc.stop(self.server.proc)
        self.server = self.exits.enter_context(
            running_web("pserve", self.stack.ini, port=self.server.port))


@contextlib.contextmanager
def running_flow(tmp, api_url, max_rate, page_refresh="2"):
    """Stack, web server and task worker; the API called at most `max_rate` a second, so a
    task of FLOW_PAGES pages runs long enough to be watched."""
    settings = {"stackq.api.max_rate": str(max_rate), "stackq.tasks.page_refresh": page_refresh}
    with open_stack(tmp, api_url, **settings) as stack, contextlib.ExitStack() as exits:
        exits.enter_context(running_worker(stack, tmp))
        yield Flow(stack, exits)


@contextlib.contextmanager
def running_worker(stack, tmp):
    proc = start_refresher(stack.ini, "--tasks-only", log_path=tmp / "worker.log")
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def fresh_flow(flow, pages=FLOW_PAGES):
    """No task, no search; then the search the flow's tasks work on (refresh: with its pages)."""
    clean_tasks(flow.stack)
    flow.pages = pages
    pages = pages if FLOW_KIND == "refresh" else 1
    flow.search_id = flow.stack.save_search(
        FLOW_QUERY, orders=[("activity", "desc", page) for page in range(1, pages + 1)])
    return flow


def flow_start_page(flow):
    """Where a visitor starts the flow's task: (path, the form's CSS selector)."""
    if FLOW_KIND == "harvest":
        return "/tasks/new", "form.task-form"
    return f"/queries/{flow.search_id}", "form.refresh-now"


def flow_form_fields(flow):
    """What a visitor types into the flow's start form (nothing for Refresh now)."""
    if FLOW_KIND == "harvest":
        return {"q": FLOW_QUERY, "site": "stackoverflow", "pages": str(flow.pages)}
    return {}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Answer:
    status: int
    location: str
    html: BeautifulSoup


class Visitor:
    """A browser without JavaScript: its own cookies, and it follows redirects only when told."""

    def __init__(self, base_url):
        self.base_url = base_url
        cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self.following = urllib.request.build_opener(cookies)
        self.staying = urllib.request.build_opener(cookies, NoRedirect())

    def open(self, path, data=None, follow=True):
        url = path if path.startswith("http") else self.base_url + path
        body = None if data is None else urllib.parse.urlencode(data).encode()
        try:
            with (self.following if follow else self.staying).open(url, body, timeout=20) as r:
                return Answer(r.status, r.geturl(), BeautifulSoup(r.read(), "html.parser"))
        except urllib.error.HTTPError as error:
            page = BeautifulSoup(error.read(), "html.parser")
            return Answer(error.code, error.headers.get("Location"), page)

    def token(self):
        page = self.open("/tasks/new").html
        return page.find("meta", attrs={"name": "csrf-token"})["content"]

    def start_flow_task(self, flow):
        """Start the flow's task as a visitor would; the 303's Location (the task's page)."""
        path, selector = flow_start_page(flow)
        form = self.open(path).html.select_one(selector)
        fields = dict(flow_form_fields(flow), csrf_token=self.token())
        answer = self.open(form["action"], fields, follow=False)
        assert answer.status == 303, answer.html.text
        return answer.location


def progress_of(page):
    return float(page.select_one("progress")["value"])


def meta_refresh(page):
    meta = page.find("meta", attrs={"http-equiv": "refresh"})
    return None if meta is None else meta["content"]


def task_id_of(location):
    """The id in a task page's address, /tasks/{id}."""
    return int(re.search(r"/tasks/(\d+)$", location).group(1))

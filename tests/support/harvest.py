"""Helpers for the harvester's tests: pages asked at the emulator, what the database holds,
and `stackq_harvest` run as a real process."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from stackq.models import FetchedPage, Question, SavedSearch, SearchPosition, SearchResult
from tests.support.stack import write_ini

BIN = Path(sys.executable).parent


class AskedPages:
    """Every search/advanced request the emulator answers: (page, filter), in order."""

    def __init__(self, *emulators):
        self.requests = []
        for emu in emulators:
            real = emu.handle_api

            def spy(ip, path, params, real=real):
                if path.strip("/") == "search/advanced":
                    self.requests.append((params.get("page"), params.get("filter")))
                return real(ip, path, params)

            emu.handle_api = spy
        self.emulators = emulators

    @property
    def pages(self):
        """Result pages asked (the calls counting results, with a filter of their own, left out)."""
        return [int(page or 1) for page, kind in self.requests
                if kind in (None, "default", "withbody")]

    def clear(self):
        self.requests.clear()

    def remove(self):
        for emu in self.emulators:
            del emu.handle_api  # back to the class's method


def search_id(stack, q="", tagged=""):
    with stack.session() as dbsession:
        return dbsession.scalar(select(SavedSearch.id).where(SavedSearch.q == q,
                                                             SavedSearch.tagged == tagged))


def stored_pages(stack, query_id, sort="activity"):
    with stack.session() as dbsession:
        return list(dbsession.scalars(
            select(FetchedPage.page).where(FetchedPage.search_id == query_id,
                                           FetchedPage.sort == sort)
            .order_by(FetchedPage.page)))


def stored_order(stack, query_id, sort="activity"):
    """(position, question id) of the search's stored upstream order."""
    with stack.session() as dbsession:
        return dbsession.execute(
            select(SearchPosition.position, Question.question_id)
            .join(Question, Question.id == SearchPosition.question_id)
            .where(SearchPosition.search_id == query_id, SearchPosition.sort == sort)
            .order_by(SearchPosition.position)).all()


def result_count(stack, query_id):
    with stack.session() as dbsession:
        return dbsession.scalar(select(func.count()).select_from(SearchResult)
                                .where(SearchResult.search_id == query_id))


def harvest_command(ini, *args):
    return [str(BIN / "stackq_harvest"), str(ini), *map(str, args)]


def harvest_env():
    # pyramid's own pkg_resources warning is not the harvester's output.
    return {**os.environ, "PYTHONWARNINGS": "ignore"}


def ini_with(stack, tmp_path, **settings):
    """The stack's ini with other [app:main] settings (e.g. a slower rate)."""
    return write_ini(tmp_path / "harvest.ini", stack.db_url, stack.redis_url, stack.api_url,
                     **settings)


def run_harvester(ini, *args, timeout=120):
    """`stackq_harvest ini *args` to the end, without a terminal; the CompletedProcess."""
    return subprocess.run(harvest_command(ini, *args), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=harvest_env())


def start_harvester(ini, *args, **popen):
    """`stackq_harvest` running, its stdout a text pipe read line by line."""
    return subprocess.Popen(harvest_command(ini, *args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            bufsize=1, env=harvest_env(), **popen)


def read_until(proc, text):
    """Lines of the process's stdout up to the first holding `text` (which must come)."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if text in line:
            return lines
    raise AssertionError(f"the harvester ended without printing {text!r}:\n" + "".join(lines)
                         + proc.stderr.read())

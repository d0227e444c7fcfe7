"""Harvest: many upstream pages of one search into its saved search, one page at a time.

The CLI (`stackq_harvest`) and the task worker call `run_harvest`. Each page is fetched
first (network only), then stored in one short transaction that commits; the search's
cached pages are dropped after each commit, and open pages told of what it changed
(`query_updated`, one notice a page). Where to resume is read from the database
(the pages stored for the search and sort), so a harvest killed in any way loses at most
the page under way, and a rerun with `resume=True` continues after the last one stored.
"""

import math
from dataclasses import dataclass, replace

from ..refresh.reserve import reserve_of
from ..searches.ingest import UPSTREAM_PAGE_SIZE
from ..searches.saved import UPSTREAM_SORTS, fetch_search
from ..stackexchange.access import Stopped
from ..stackexchange.background import BackgroundApi
from ..stackexchange.policy import KEYLESS_LAST_PAGE
from .store import (
    create_search,
    load_plan,
    store_harvested_page,
    write_json_page,
)

__all__ = ["HARVEST_MAX_WAIT", "HarvestRequest", "HarvestResult", "PageDone", "run_harvest"]

# A background caller: it waits as long as the limits ask (back-off, bans) rather than fail.
HARVEST_MAX_WAIT = 600.0
# Harvests read the API's own order, newest / highest first.
DIRECTION = "desc"


@dataclass(frozen=True)
class HarvestRequest:
    q: str
    site: str  # api_site_parameter, e.g. "stackoverflow"
    tagged: str | None = None  # ";"-separated
    sort: str = "activity"  # activity | creation | votes
    max_pages: int = 1  # upstream pages of 100
    resume: bool = False  # continue after the last page stored for this search+sort
    json_dir: str | None = None  # also write DIR/<md5(site+q+sort)>/page_<n>.json
    last_page: int | None = None  # fetch no page past this one (a task's pages 1..N, resumed)
    max_wait: float = HARVEST_MAX_WAIT  # seconds a call may wait for a slot or the quota
    # Share of the daily quota left for people browsing (stackq.refresh.quota_reserve): the
    # run raises ReserveReached rather than spend it. 0: spend every call.
    quota_reserve: float = 0.0


@dataclass(frozen=True)
class PageDone:
    page: int  # upstream page number just stored
    done: int  # pages stored in this run so far
    planned: int  # pages this run plans (max_pages, or fewer once known)
    questions: int  # questions on that page
    new: int  # of them new to the database
    updated: int  # of them already stored and changed
    calls: int  # API calls made so far in this run
    quota_remaining: int | None


@dataclass(frozen=True)
class HarvestResult:
    query_id: int
    pages: int
    first_page: int | None
    last_page: int | None
    new: int
    updated: int
    calls: int
    quota_remaining: int | None
    stopped: str  # "done", "end" (has_more false), "key_needed", "interrupted"


class Plan:
    """Which pages this run asks for, and how many it expects to get."""

    def __init__(self, request, start, total, has_key):
        self.request = request
        self.start = start
        self.has_key = has_key
        self.planned = request.max_pages
        if total is not None:
            self.planned = min(self.planned, max(1, math.ceil(total / UPSTREAM_PAGE_SIZE)
                                                 - start + 1))
        if not has_key:
            self.planned = min(self.planned, max(0, KEYLESS_LAST_PAGE - start + 1))

    def after_page(self, done, has_more):
        if not has_more:
            self.planned = done
        elif done >= self.planned and done < self.request.max_pages and (
                self.has_key or self.start + done <= KEYLESS_LAST_PAGE):
            self.planned = done + 1  # the total was stale: there is more than it said


def run_harvest(session_factory, access, request: HarvestRequest, *,
                on_page=None, on_wait=None, should_stop=None) -> HarvestResult:
    """Fetch pages of one search into its saved search, one short transaction per page.

    Raises the typed errors of `stackq.stackexchange.errors`, ReserveReached where the next
    call would spend the quota's reserve, and SearchInputError for a search that cannot be
    saved (unknown site, no words and no tags); pages committed before an error stay stored.
    """
    if request.sort not in UPSTREAM_SORTS:
        raise ValueError(f"sort must be one of {', '.join(UPSTREAM_SORTS)}, not {request.sort!r}")
    if request.max_pages < 1:
        raise ValueError(f"max_pages must be at least 1, not {request.max_pages}")
    # Calls counted, the last quota told, waits reported (`on_wait`, every half second).
    api = BackgroundApi(access, max_wait=request.max_wait, on_wait=on_wait,
                        budget=reserve_of(access, request.quota_reserve))
    search_id = create_search(session_factory, api, request)
    search, start, total, ended = load_plan(session_factory, search_id, request.sort,
                                            DIRECTION, request.resume)
    pages, new, updated, stopped = [], 0, 0, "done"
    if ended:
        stopped = "end"  # resuming a search whose last page is stored already
    elif request.last_page is not None:
        left = request.last_page - start + 1
        ended = left < 1  # every page up to the last one is stored already
        request = replace(request, max_pages=max(1, min(request.max_pages, left)))
    plan = Plan(request, start, total, api.has_key)
    while not ended:
        page = start + len(pages)
        if len(pages) >= request.max_pages:
            break
        if not api.has_key and page > KEYLESS_LAST_PAGE:
            stopped = "key_needed"
            break
        if should_stop is not None and should_stop():
            stopped = "interrupted"
            break
        try:
            answer = fetch_search(api, search, sort=request.sort, order=DIRECTION, page=page,
                                  pagesize=UPSTREAM_PAGE_SIZE)
        except Stopped:  # the process is stopping: the page's call was never made
            stopped = "interrupted"
            break
        stored = store_harvested_page(session_factory, search_id, request.sort, DIRECTION,
                                      page, answer)
        if request.json_dir:
            write_json_page(request.json_dir, search, request.sort, page, answer.items)
        pages.append(page)
        new, updated = new + stored.new, updated + stored.updated
        plan.after_page(len(pages), answer.has_more)
        if on_page is not None:
            on_page(PageDone(page, len(pages), plan.planned, stored.questions, stored.new,
                             stored.updated, api.calls, api.quota_remaining))
        if not answer.has_more:
            stopped = "end"
            break
    return HarvestResult(search_id, len(pages), pages[0] if pages else None,
                         pages[-1] if pages else None, new, updated, api.calls,
                         api.quota_remaining, stopped)

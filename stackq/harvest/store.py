"""The harvest's database side: its saved search, where to resume, and one page per commit."""

import hashlib
import json
import os
from dataclasses import dataclass

import transaction
from sqlalchemy import select

from ..infra.clock import utcnow
from ..infra.files import written_whole
from ..models import (
    FetchedPage,
    Question,
    SavedSearch,
    get_tm_session,
)
from ..notify.publish import queue_query_updated
from ..refresh.diff import change_notice, diff_shown, remember_diff, shown_before, shown_rows
from ..searches.ingest import store_page
from ..searches.manage import SearchDeleted
from ..searches.saved import get_or_create_search


@dataclass(frozen=True)
class StoredPage:
    questions: int
    new: int  # new to the database
    updated: int  # already stored, and changed


# Two harvests storing pages that share questions can deadlock in PostgreSQL (their upserts
# lock the same rows in another order): the page is stored again, as a web request would be.
ATTEMPTS = 5


def committed(session_factory, work):
    """`work(dbsession)` in one short transaction, retried on a deadlock.

    Once it has committed, the session factory's after-commit hook drops the cached pages
    it changed (the pages listing every search too, when it created its search) and
    publishes the notice it queued; an attempt rolled back does neither.
    """
    tm = transaction.TransactionManager(explicit=True)
    for attempt in tm.attempts(ATTEMPTS):
        with attempt:
            result = work(get_tm_session(session_factory, tm))
    return result


def create_search(session_factory, api, request):
    """The id of the saved search for the request: reused, or created (one API call)."""
    def work(dbsession):
        return get_or_create_search(dbsession, api, request.site, request.q,
                                    request.tagged or "").id

    return committed(session_factory, work)


def load_plan(session_factory, search_id, sort, direction, resume):
    """(search, first page to fetch, the search's total, whether nothing is left to fetch).

    Resuming starts at the first page not stored, counting from 1: after the last page
    of an unbroken run, and filling any gap a crash or a visitor's browsing left.
    """
    with session_factory() as dbsession:
        search = dbsession.get(SavedSearch, search_id)  # its site is loaded eagerly
        has_more = dict(dbsession.execute(
            select(FetchedPage.page, FetchedPage.has_more).where(
                FetchedPage.search_id == search_id, FetchedPage.sort == sort,
                FetchedPage.direction == direction)).all())
    start = 1
    if resume:
        while start in has_more:
            start += 1
    ended = resume and start > 1 and not has_more[start - 1]
    return search, start, search.total, ended


def store_harvested_page(session_factory, search_id, sort, direction, page, answer):
    """Store one fetched page and commit; how many of its questions were new or changed.

    Every page that changes what the search shows is announced once committed (after its
    cached pages were dropped): browsers add the counts up in one panel, and a long
    harvest shows its pages as they land."""
    def work(dbsession):
        search = dbsession.get(SavedSearch, search_id)
        if search is None:
            raise SearchDeleted(search_id)
        ids = [item["question_id"] for item in answer.items if "question_id" in item]
        before = shown_rows(dbsession, (Question.site_id == search.site_id)
                            & Question.question_id.in_(ids)) if ids else {}
        # Counted per search, as the refresher counts: stored for another search is new here.
        shown = shown_before(dbsession, search_id, among=list(before)) if before else {}
        pks = store_page(dbsession, search, sort, direction, page, answer)
        after = shown_rows(dbsession, Question.id.in_(pks)) if pks else {}
        new = sum(1 for pk in pks if pk not in before)
        updated = sum(1 for pk in pks
                      if pk in before and before[pk].fingerprint != after[pk].fingerprint)
        diff = diff_shown(shown, {pk: after[pk] for pk in pks})
        # What browsers are told the search shows now, so the refresher does not tell again.
        now = utcnow()
        remember_diff(dbsession, search_id, shown, after, diff, now)
        notice = change_notice(search, diff, now)
        if notice:
            queue_query_updated(dbsession, **notice)
        return StoredPage(len(pks), new, updated)

    return committed(session_factory, work)


def json_folder(json_dir, search, sort):
    """DIR/<md5 of site+query+sort>: one folder per harvested search and order."""
    key = f"{search.site.api_site_parameter}{search.q}{sort}"
    return os.path.join(json_dir, hashlib.md5(key.encode("utf-8")).hexdigest())


def write_json_page(json_dir, search, sort, page, items):
    """DIR/<md5>/page_<n>.json holding the page's items, written whole or not at all."""
    folder = json_folder(json_dir, search, sort)
    os.makedirs(folder, exist_ok=True)
    with written_whole(os.path.join(folder, f"page_{page}.json")) as f:
        f.write(json.dumps(items, ensure_ascii=False).encode("utf-8"))

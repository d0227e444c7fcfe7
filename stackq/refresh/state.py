"""What the database tells the planner: the searches, each site's stored questions, the
questions due for a re-read, and when someone last opened a search."""

import math
from dataclasses import dataclass

from sqlalchemy import case, func, select

from ..archive.store import stale_answers
from ..infra.clock import utcnow
from ..models import Question, SavedSearch, SearchResult, Site
from .jobs import AnswersJob, ChangesJob, RereadJob, TotalJob, since_of
from .plan import (
    IDS_PER_CALL,
    KEYED_QUOTA,
    KEYLESS_QUOTA,
    CyclePlan,
    SearchState,
    SiteState,
    daily_allowance,
    plan_cycle,
    plan_settings,
    quota_from_status,
    refresh_every,
)

# The planner looks this many re-read chunks ahead per site (a cycle never needs more).
MAX_CHUNKS = 50


# A paused search is no part of any plan: its share of the quota goes to the others.
REFRESHED = SavedSearch.paused.is_(False)


def search_states(dbsession):
    """The searches the refresher keeps fresh (not paused)."""
    return [SearchState(*row) for row in dbsession.execute(
        select(SavedSearch.id, SavedSearch.site_id, SavedSearch.opened_at,
               SavedSearch.refreshed_at, SavedSearch.total_at)
        .where(REFRESHED).order_by(SavedSearch.id))]


def stored_questions(site_id=None):
    """The distinct questions stored for any saved search not paused (of one site): a
    question only a paused or deleted search stored is re-read no more."""
    refreshed = (select(SearchResult.question_id)
                 .join(SavedSearch, SavedSearch.id == SearchResult.search_id).where(REFRESHED))
    query = select(Question.id).where(Question.id.in_(refreshed))
    return query.where(Question.site_id == site_id) if site_id is not None else query


def site_states(dbsession):
    """Per site with saved searches: its distinct stored questions, and its chunk ages.

    One statement for every site: each site's questions numbered in re-read order (least
    recently read first), and only every IDS_PER_CALL-th leaves the database, the first
    MAX_CHUNKS of them, with the site's count. /status and the home page read this each time.
    """
    site = Question.site_id
    numbered = (select(site, Question.stored_at,
                       func.row_number().over(partition_by=site,
                                              order_by=(Question.stored_at, Question.id))
                       .label("place"),
                       func.count().over(partition_by=site).label("distinct"),
                       # Questions whose stored answers fell behind, in the same pass (the
                       # answers are counted only for questions that have some stored).
                       func.sum(case((stale_answers(), 1), else_=0)).over(partition_by=site)
                       .label("stale"))
                .where(Question.id.in_(stored_questions())).subquery())
    rows = dbsession.execute(
        select(numbered.c.site_id, numbered.c.distinct, numbered.c.stored_at, numbered.c.stale)
        .where(numbered.c.place <= MAX_CHUNKS * IDS_PER_CALL,
               (numbered.c.place - 1) % IDS_PER_CALL == 0)
        .order_by(numbered.c.site_id, numbered.c.place))
    ages, distinct, stale = {}, {}, {}
    for site_id, count, stored_at, behind in rows:
        distinct[site_id], stale[site_id] = count, int(behind or 0)
        ages.setdefault(site_id, []).append(stored_at)
    return [SiteState(site_id, distinct[site_id], tuple(ages[site_id]), stale[site_id])
            for site_id in ages]


def stale_answer_batches(dbsession, site_id, calls, question_ids=None):
    """Up to `calls` batches of API ids of questions whose answers fell behind (of one site;
    among `question_ids`, row ids, when given), oldest answers first."""
    query = (select(Question.question_id).where(Question.site_id == site_id, stale_answers())
             .order_by(Question.answers_at, Question.id))
    if question_ids is None:
        query = query.where(Question.id.in_(stored_questions(site_id)))
    else:
        query = query.where(Question.id.in_(question_ids))
    ids = list(dbsession.scalars(query.limit(calls * IDS_PER_CALL)))
    return [ids[i:i + IDS_PER_CALL] for i in range(0, len(ids), IDS_PER_CALL)]


def reread_chunks(dbsession, site_id, calls):
    """The `calls` chunks of question (row id, API id) pairs re-read least recently."""
    rows = dbsession.execute(
        select(Question.id, Question.question_id)
        .where(Question.id.in_(stored_questions(site_id)))
        .order_by(Question.stored_at, Question.id).limit(calls * IDS_PER_CALL)).all()
    return [rows[i:i + IDS_PER_CALL] for i in range(0, len(rows), IDS_PER_CALL)]


def search_jobs(dbsession, search):
    """Everything that refreshes one search now: what changed, a re-read of every question
    it has stored, the answers that fell behind (as they were when it started), its total."""
    rows = dbsession.execute(
        select(Question.id, Question.question_id)
        .where(Question.id.in_(select(SearchResult.question_id)
                               .where(SearchResult.search_id == search.id)))
        .order_by(Question.id)).all()
    site = search.site.api_site_parameter
    stale = stale_answer_batches(dbsession, search.site_id, len(rows),
                                 select(SearchResult.question_id)
                                 .where(SearchResult.search_id == search.id))
    return [ChangesJob(search, since_of(dbsession, search)),
            *(RereadJob(search.site_id, site, rows[i:i + IDS_PER_CALL])
              for i in range(0, len(rows), IDS_PER_CALL)),
            *(AnswersJob(search.site_id, site, batch) for batch in stale),
            TotalJob(search)]


def plan_now(dbsession, quota, now, settings):
    """The plan of a cycle starting at `now` (what the refresher runs, what /status shows)."""
    return plan_cycle(search_states(dbsession), site_states(dbsession), quota,
                      now, settings)


def cycle_jobs(dbsession, plan):
    """The plan's jobs, in its order: what changed for each search, answers fallen behind,
    re-reads, totals."""
    searches = {s.id: s for s in dbsession.scalars(select(SavedSearch).where(
        SavedSearch.id.in_(set(plan.searches) | set(plan.totals)), REFRESHED))}
    jobs = [ChangesJob(searches[i], since_of(dbsession, searches[i]))
            for i in plan.searches if i in searches]
    sites = {site.id: site.api_site_parameter for site in dbsession.scalars(select(Site))}
    for site_id, calls in plan.answers.items():
        jobs += [AnswersJob(site_id, sites[site_id], batch)
                 for batch in stale_answer_batches(dbsession, site_id, calls)]
    for site_id, calls in plan.rereads.items():
        jobs += [RereadJob(site_id, sites[site_id], chunk)
                 for chunk in reread_chunks(dbsession, site_id, calls)]
    jobs += [TotalJob(searches[i]) for i in plan.totals if i in searches]
    return jobs


@dataclass
class Outlook:
    """What the refresher will do next, and how often each search gets refreshed."""

    plan: CyclePlan
    searches: int
    has_key: bool
    reserve: int  # calls a day kept for people browsing
    every: dict  # "keyless"/"keyed" -> seconds between refreshes of a search (None: never)


def outlook(dbsession, quota, now, settings):
    """The next cycle's plan, and each search's refresh interval keyless and with a key."""
    # Read once: the home page and /status render this, each read a round trip.
    search_rows, sites = search_states(dbsession), site_states(dbsession)
    plan = plan_cycle(search_rows, sites, quota, now, settings)
    searches = len(search_rows)
    distinct = [site.distinct for site in sites]
    every = {name: refresh_every(searches, distinct,
                                 daily_allowance(quota.mirrors, limit, settings.reserve),
                                 settings)
             for name, limit in (("keyless", KEYLESS_QUOTA), ("keyed", KEYED_QUOTA))}
    return Outlook(plan, searches, settings.has_key,
                   math.ceil(settings.reserve * quota.limit), every)


def outlook_now(dbsession, api_status, settings):
    """The Outlook at this moment, from typed `Settings` and the API access layer's status
    (`ApiAccess.status()`: several Redis round trips, so the caller's one reading)."""
    now = utcnow()
    planning = plan_settings(settings)
    return outlook(dbsession, quota_from_status(api_status, now, planning.has_key), now,
                   planning)

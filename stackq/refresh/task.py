"""The `refresh` kind: refresh one saved search now, with the refresher's own jobs.

What changed in the search, a re-read of every question it has stored, then its total: all
fetched first (network only), then stored, diffed and announced in one short transaction,
as a refresh cycle stores each of them. A cancel or SIGTERM arriving while they are fetched
drops them: the search is refreshed whole or not at all. Nor does it spend the quota's
reserve: when its calls would, it waits (pending) until the quota renews, then starts over.
"""

from collections import Counter
from contextlib import suppress

from sqlalchemy import select

from ..infra.clock import utcnow
from ..models import SavedSearch, Task, new_transaction
from ..stackexchange.background import BackgroundApi
from ..stackexchange.errors import QuotaExhausted
from ..tasks.cancel import cancel_and_announce
from ..tasks.context import TaskFailed, TaskInterrupted
from ..tasks.kinds import Kind
from ..tasks.queue import TaskFinished
from ..tasks.validation import problem
from .calls import cycle_wait
from .cycle import store_job
from .diff import remember_shown
from .reserve import QuotaReserve, ReserveReached, wait_for_quota
from .state import search_jobs


def reporting_api(context, planned, reserve):
    """A background caller that moves the task's bar after each answer (a page on the task's
    page). A task asked for by someone: not held back by the refresher's share of the quota,
    only by the reserve kept for people browsing."""
    def report(calls):
        context.report(f"API answer {calls} of {planned} fetched",
                       progress=min(calls, planned) / (planned + 1))

    return BackgroundApi(context.api, max_wait=cycle_wait(), on_answer=report, budget=reserve)


def run_refresh_task(context, params):
    try:
        return refresh_search(context, params["query_id"])
    except (ReserveReached, QuotaExhausted) as error:
        raise wait_for_quota(error) from None


def refresh_search(context, search_id):
    with context.session_factory() as dbsession:
        search = dbsession.get(SavedSearch, search_id)
        if search is None:
            raise TaskFailed(f"there is no saved search {search_id}")
        if search.paused:  # paused after the task was queued: it spends no call
            raise TaskFailed(paused_message(search_id))
        jobs = search_jobs(dbsession, search)  # its site is loaded eagerly
        label = f"{search.q or search.tagged!r} on {search.site.api_site_parameter}"
    reserve = QuotaReserve(context.api, context.quota_reserve)
    if not reserve.day_allows(len(jobs)):  # waiting for the renewal would not help
        raise TaskFailed(f"refreshing saved search {search_id} takes {len(jobs)} API calls, more"
                         " than a day's quota leaves above the reserve kept for people browsing")
    reserve.check(len(jobs))  # all or none: a refresh half-fetched is dropped
    context.report(f"refreshing saved search {search_id} ({label}): {len(jobs)} API calls",
                   progress=0.0)
    api = reporting_api(context, len(jobs), reserve)
    # Every job fetched before anything is stored: a stop meanwhile leaves the search as it was.
    fetched = []
    for job in jobs:
        if context.should_stop():
            raise TaskInterrupted()
        fetched.append(job.fetch(api))
    if context.should_stop():
        raise TaskInterrupted()
    # Stored as the refresher stores each job (its notices queued by `store_job`); once it
    # commits, the changed searches' cached pages are dropped and their notices sent.
    counts = Counter(new=0, changed=0, removed=0)
    with new_transaction(context.session_factory) as dbsession:
        if dbsession.get(SavedSearch, search_id) is None:
            raise TaskFailed(f"saved search {search_id} was deleted during its refresh")
        remember_shown(dbsession)
        now = utcnow()
        for job, answer in zip(jobs, fetched, strict=True):
            for shown, diff in store_job(dbsession, job, answer, now):
                if shown.id == search_id:  # a re-read changes other searches too
                    counts.update(diff.counts())
        total = dbsession.get(SavedSearch, search_id).total
    context.report(f"{counts['new']} new, {counts['changed']} changed, "
                   f"{counts['removed']} removed", progress=1.0)
    return {"query_id": search_id, "total": total, "calls": api.calls, **dict(counts)}


def paused_message(search_id):
    return f"saved search {search_id} is paused: resume it to refresh it"


def check_refresh(dbsession, params, has_key):
    search = dbsession.get(SavedSearch, params["query_id"])
    if search is None:
        return [problem("query_id", f"there is no saved search {params['query_id']}")]
    if search.paused:
        return [problem("query_id", paused_message(search.id))]
    return []


def cancel_refreshes(dbsession, search_id):
    """A deleted search's refresh tasks not finished yet: pending ones cancelled, a running
    one asked to stop (it would fail anyway, finding no search to store into)."""
    for task in dbsession.scalars(select(Task).where(
            Task.kind == "refresh", Task.state.in_(("pending", "running")))).all():
        if task.params.get("query_id") == search_id:
            with suppress(TaskFinished):  # it ended meanwhile: nothing to cancel
                cancel_and_announce(dbsession, task.id)


REFRESH = Kind(
    name="refresh",
    summary="Refresh one saved search now, as a refresh cycle would.",
    params={"query_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1,
                         "description": "the saved search's id"}},
    required=("query_id",),
    run=run_refresh_task,
    check=check_refresh,
)

"""`stackq_harvest --answers`: the answers of a saved search's stored questions, 100
questions a call (`/questions/{ids}/answers`), one committed transaction per batch.

Only questions whose answers are not stored yet (and that have some) are asked for, so a
run stopped in any way loses at most the batch under way and a rerun goes on from there.
"""

from dataclasses import dataclass

from sqlalchemy import select

from ..archive.fetch import batches, fetch_answers
from ..archive.store import store_answers
from ..models import Question, SavedSearch, SearchResult, Site
from ..models.changes import listings_changed
from ..refresh.reserve import reserve_of
from ..stackexchange.access import Stopped
from ..stackexchange.background import BackgroundApi
from .service import HARVEST_MAX_WAIT
from .store import committed


@dataclass(frozen=True)
class AnswersResult:
    questions: int  # whose answers were stored
    answers: int
    calls: int
    stopped: bool  # interrupted before every batch was asked


def questions_lacking_answers(session_factory, search_id):
    """(site id, site API name, [question ids]) of the search's questions to ask for."""
    with session_factory() as dbsession:
        site_id, site = dbsession.execute(
            select(Site.id, Site.api_site_parameter)
            .join(SavedSearch, SavedSearch.site_id == Site.id)
            .where(SavedSearch.id == search_id)).one()
        ids = dbsession.scalars(
            select(Question.question_id)
            .join(SearchResult, SearchResult.question_id == Question.id)
            .where(SearchResult.search_id == search_id, Question.answers_at.is_(None),
                   Question.answer_count > 0)
            .order_by(Question.question_id)).all()
    return site_id, site, list(ids)


def harvest_answers(session_factory, access, search_id, *, max_wait=HARVEST_MAX_WAIT,
                    quota_reserve=0.0, should_stop=None, on_batch=None) -> AnswersResult:
    """Store the answers of saved search `search_id`'s questions that lack them. Raises the
    typed API errors (and ReserveReached) as run_harvest does; batches committed stay."""
    api = BackgroundApi(access, max_wait=max_wait, budget=reserve_of(access, quota_reserve))
    site_id, site, ids = questions_lacking_answers(session_factory, search_id)
    questions = answers = 0
    for batch in batches(ids):
        if should_stop is not None and should_stop():
            return AnswersResult(questions, answers, api.calls, True)
        try:
            items = fetch_answers(api, site, batch)
        except Stopped:
            return AnswersResult(questions, answers, api.calls, True)

        def work(dbsession, batch=batch, items=items):
            stored = store_answers(dbsession, site_id, batch, items)
            listings_changed(dbsession)  # cached question pages are dropped with the listings
            return stored

        answers += committed(session_factory, work)
        questions += len(batch)
        if on_batch is not None:
            on_batch(questions, len(ids))
    return AnswersResult(questions, answers, api.calls, False)

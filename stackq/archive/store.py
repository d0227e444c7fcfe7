"""The archive in the database: a stored question with its owner, and its answers."""

import logging

from sqlalchemy import bindparam, delete, func, select

from ..infra.clock import naive_utc, utcnow
from ..models import Answer, Question, Site
from ..models.fulltext import plain_text
from ..models.fulltext_threads import threads_held
from ..models.upsert import fitted, upsert
from ..searches.ingest import owner_key, store_owners
from ..stackexchange.items import parse_answer, parse_each

log = logging.getLogger(__name__)


# The question page's two statements, built once: building and keying a statement took as
# long as running it (a built statement keeps its cache key).
FIND_QUESTION = (
    select(Site, Question).join(Question, Question.site_id == Site.id)
    .where(Site.api_site_parameter == bindparam("site"),
           Question.question_id == bindparam("question_id"))
    # Rows upserted past the ORM (a fetch on this open) replace what the session holds.
    .execution_options(populate_existing=True))
ANSWERS_OF = (
    select(Answer).where(Answer.question_id == bindparam("question_pk"))
    .order_by(Answer.is_accepted.desc(), Answer.score.desc(), Answer.creation_date,
              Answer.answer_id))


def find_question(dbsession, site_name, question_id):
    """(site, question) stored under the site's API name and the question's id, or None."""
    row = dbsession.execute(FIND_QUESTION,
                            {"site": site_name, "question_id": question_id}).first()
    return tuple(row) if row is not None else None


def answers_of(dbsession, question_pk):
    """The stored answers of a question: the accepted first, then by score, oldest first."""
    return dbsession.scalars(ANSWERS_OF, {"question_pk": question_pk}).unique().all()


def needs_answers(question, stored):
    """Whether to ask the API for the question's answers, `stored` of them being stored:
    never asked yet, or its answer count moved since they were (a re-read saw new ones)."""
    if question.answer_count <= 0 and stored == 0:
        return False
    return question.answers_at is None or (
        stored != question.answer_count and question.answers_at <= question.last_activity_date)


def stale_answers():
    """A condition on Question: its answers were stored, then its answer count moved with
    later activity (a re-read or a refresh saw it), so they are asked for again. The SQL twin
    of `needs_answers` for questions whose answers were asked for once."""
    stored = (select(func.count(Answer.id)).where(Answer.question_id == Question.id)
              .correlate(Question).scalar_subquery())
    return (Question.answers_at.is_not(None)
            & (Question.answers_at <= Question.last_activity_date)
            & (Question.answer_count != stored))


def store_answers(dbsession, site_id, question_ids, items, now=None):
    """Store every answer of the questions `question_ids` (API ids) the API sent as `items`:
    their answers become exactly these, and each question is marked as having them.
    An answer whose question is not stored is skipped (logged). Returns how many stored."""
    now = now or utcnow()
    pks = dict(dbsession.execute(
        select(Question.question_id, Question.id)
        .where(Question.site_id == site_id, Question.question_id.in_(list(question_ids)))).all())
    answers = []
    for answer in parse_each(items, parse_answer, log, "an answer"):
        if answer.question_id in pks:
            answers.append(answer)
        else:
            log.warning("skipping answer %s: its question %s is not stored", answer.answer_id,
                        answer.question_id)
    owner_ids = store_owners(dbsession, site_id, [a.owner for a in answers if a.owner])
    with threads_held(dbsession, lambda: gaining_or_losing(dbsession, pks, answers)):
        if pks:
            kept = [a.answer_id for a in answers]
            # Answers deleted upstream go: the question's answers are what the API sent.
            dbsession.execute(delete(Answer).where(Answer.question_id.in_(list(pks.values())),
                                                   Answer.answer_id.notin_(kept)))
        if answers:
            rows = list({a.answer_id: answer_row(site_id, pks[a.question_id], a, owner_ids,
                                                 now) for a in answers}.values())
            upsert(dbsession, Answer, rows, ["site_id", "answer_id"])
    for question in dbsession.scalars(select(Question).where(Question.id.in_(list(pks.values())))):
        # In whole seconds, as the API's dates: activity in the second they were asked for
        # may be after the answer, so it counts as later (at worst, one call more).
        question.answers_at = now.replace(microsecond=0)
    return len(answers)


def gaining_or_losing(dbsession, pks, answers):
    """The questions (primary keys; `pks` by API id) that `answers` give a new answer or take
    one from: their search threads are rebuilt once, not once per answer (threads_held)."""
    if not pks:
        return set()
    stored = dict(dbsession.execute(select(Answer.answer_id, Answer.question_id)
                                    .where(Answer.question_id.in_(list(pks.values())))).all())
    sent = {a.answer_id for a in answers}
    return ({pks[a.question_id] for a in answers if a.answer_id not in stored}
            | {question for answer, question in stored.items() if answer not in sent})


def answer_row(site_id, question_pk, answer, owner_ids, now):
    return {
        "site_id": site_id,
        "answer_id": answer.answer_id,
        "question_id": question_pk,
        "score": answer.score,
        "is_accepted": answer.is_accepted,
        "creation_date": naive_utc(answer.creation_date),
        "last_activity_date": naive_utc(answer.last_activity_date),
        "last_edit_date": naive_utc(answer.last_edit_date),
        "content_license": fitted(Answer.content_license, answer.content_license),
        "owner_id": owner_ids.get(owner_key(answer.owner)) if answer.owner else None,
        "body": answer.body,
        "body_text": plain_text(answer.body),  # what the search index reads
        "stored_at": now,
    }

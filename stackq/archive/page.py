"""What the question page shows: the stored question, and its answers, fetched on the first
open (one call) when they are not stored yet."""

import logging
from dataclasses import dataclass

from ..models import end_reads
from ..models.changes import listings_changed
from ..searches.ingest import store_questions
from ..stackexchange.access import Stopped
from ..stackexchange.errors import StackExchangeError
from .fetch import fetch_answers, fetch_questions
from .store import answers_of, find_question, needs_answers, store_answers

log = logging.getLogger(__name__)

@dataclass
class QuestionPage:
    site: object
    question: object
    answers: list
    answers_missing: bool  # the API could not be asked for them: the page says so

    @property
    def url(self):
        return self.question.url(self.site)


def question_page(dbsession, api, site_name, question_id):
    """The QuestionPage of a stored question, or None when it is not stored."""
    found = find_question(dbsession, site_name, question_id)
    if found is None:
        return None
    site, question = found
    answers = answers_of(dbsession, question.id)
    missing = False
    with_answers = needs_answers(question, len(answers))
    if question.body is None or with_answers:
        missing = not fetch_and_store(dbsession, api, site, question, with_answers)
        # Read again: the call ended the transaction the rows were read in.
        site, question = find_question(dbsession, site_name, question_id)
        answers = answers_of(dbsession, question.id)
    return QuestionPage(site, question, answers, missing)


def fetch_and_store(dbsession, api, site, question, with_answers):
    """Fetch what the question lacks (its body: stored before bodies were; its answers) and
    store it: False (logged) when the API failed, and nothing of it is stored then. Visitors
    opening it at once make one call: ApiAccess joins identical calls (single-flight)."""
    site_id, site_name, question_id = site.id, site.api_site_parameter, question.question_id
    with_body = question.body is None
    end_reads(dbsession)  # no transaction held open across the API call
    try:
        questions = fetch_questions(api, site_name, [question_id]) if with_body else None
        answers = fetch_answers(api, site_name, [question_id]) if with_answers else None
    except (StackExchangeError, Stopped) as error:
        log.warning("%s question %s not completed: %s", site_name, question_id, error)
        return False
    if questions:
        store_questions(dbsession, site_id, questions)
    if answers is not None:
        store_answers(dbsession, site_id, [question_id], answers)
    # What the archive holds changed: cached search pages may now miss these words.
    listings_changed(dbsession)
    dbsession.flush()
    return True

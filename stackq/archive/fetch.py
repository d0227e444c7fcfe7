"""Questions and answers from the API by id, bodies included: `/questions/{ids}` and
`/questions/{ids}/answers`, up to 100 question ids a call, every page of each batch (a
question with more than 100 answers takes more)."""

from ..searches.ingest import UPSTREAM_PAGE_SIZE
from ..stackexchange.filters import BODIES

IDS_PER_CALL = 100  # the API's limit on `{ids}`


def batches(question_ids):
    ids = list(dict.fromkeys(int(i) for i in question_ids))
    return [ids[start:start + IDS_PER_CALL] for start in range(0, len(ids), IDS_PER_CALL)]


def fetch_answers(api, site, question_ids, **params):
    """Every answer item of the questions of one batch (at most 100 ids): all pages, or the
    error of the call that failed (nothing half: the caller stores the whole or nothing)."""
    joined = ";".join(str(int(i)) for i in question_ids)
    items, page = [], 1
    while True:
        answer = api.fetch(f"questions/{joined}/answers", site=site, sort="votes",
                           order="desc", page=page, pagesize=UPSTREAM_PAGE_SIZE,
                           filter=BODIES, **params)
        items += answer.items
        if not answer.has_more or not answer.items:
            return items
        page += 1


def fetch_questions(api, site, question_ids, **params):
    """The question items of one batch (at most 100 ids), with their bodies."""
    joined = ";".join(str(int(i)) for i in question_ids)
    return api.fetch(f"questions/{joined}", site=site, pagesize=UPSTREAM_PAGE_SIZE,
                     filter=BODIES, **params).items

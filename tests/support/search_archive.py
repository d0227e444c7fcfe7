"""A small archive for the search tests: questions and answers stored as ingest stores them,
each with words of its own, so a test knows exactly which questions a query must find."""

from sqlalchemy import select

from stackq.archive.store import store_answers
from stackq.models import Site
from stackq.searches.ingest import store_questions
from tests.support.api_items import question_item

DAY = 86400
JAN_2020 = 1577836800
# (site, question id, title, tags, body, answers, extra fields)
QUESTIONS = (
    ("stackoverflow", 9100001, "How to frobnicate a zorblax in Python", ["python", "zorblax"],
     "<p>My zorblax will not frobnicate.</p>", ["<p>Call frobnicate twice.</p>"],
     {"score": 12, "answer_count": 1, "is_answered": True, "accepted_answer_id": 9200001,
      "creation_date": JAN_2020}),
    ("stackoverflow", 9100002, "Zorblax quirks", ["c++", "zorblax"],
     "<p>Which frobnicate a zorblax quickly? It is slow.</p>", [],
     {"score": 3, "creation_date": JAN_2020 + 200 * DAY}),
    ("stackoverflow", 9100003, "Listing files in C", ["c"],
     "<p>The zorblax manual says to frobnicate first.</p>",
     ["<p>Use opendir; qwertyanswerword is the trick.</p>", "<p>Or glob.</p>"],
     {"score": 40, "answer_count": 2, "is_answered": True,
      "creation_date": JAN_2020 + 400 * DAY}),
    ("superuser", 9100004, "Zorblax on Windows", ["windows", "zorblax"],
     "<p>Пример: почему zorblax не работает?</p>", [],
     {"score": -1, "creation_date": JAN_2020 + 600 * DAY}),
    ("superuser", 9100005, "Café settings reset", ["windows"],
     '<p>The <code>&lt;script&gt;alert(1)&lt;/script&gt;</code> zorblax text, '
     'rendered &amp; shown.</p>', [],
     {"score": 0, "creation_date": JAN_2020 + 800 * DAY}),
)


def site_id(dbsession, name):
    return dbsession.scalar(select(Site.id).where(Site.api_site_parameter == name))


def answer_item(question_id, number, body, accepted):
    return {"answer_id": 9200000 + (question_id - 9100000) + 100 * number,
            "question_id": question_id, "score": 5 - number, "is_accepted": accepted,
            "creation_date": JAN_2020 + DAY, "body": body}


def store_archive(dbsession, questions=QUESTIONS):
    """Store `questions` (rows as QUESTIONS) with their answers; returns their question ids."""
    for site, qid, title, tags, body, answers, extra in questions:
        site_pk = site_id(dbsession, site)
        url = "https://superuser.com" if site == "superuser" else "https://stackoverflow.com"
        item = question_item(question_id=qid, title=title, tags=tags, body=body,
                             link=f"{url}/questions/{qid}/x",
                             **{"last_activity_date": extra.get("creation_date", JAN_2020) + DAY,
                                **extra})
        store_questions(dbsession, site_pk, [item])
        if answers:
            accepted = extra.get("accepted_answer_id")
            items = []
            for number, text in enumerate(answers):
                answer = answer_item(qid, number, text, False)
                answer["is_accepted"] = answer["answer_id"] == accepted
                items.append(answer)
            store_answers(dbsession, site_pk, [qid], items)
    dbsession.flush()
    return [row[1] for row in questions]

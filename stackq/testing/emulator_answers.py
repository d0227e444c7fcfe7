"""The emulator's answers and bodies: made from each question's id, the same on every run.

`/questions/{ids}/answers` serves `answer_count` answers per question (the accepted one among
them), paged and sorted like questions. Some bodies carry markup no sanitiser may pass, and
some Cyrillic text, so every ingest path meets both.
"""

import random

from .emulator_data import slugify
from .emulator_query import bad_parameter, entity
from .emulator_sites import FIRST_NAMES, LAST_NAMES

# Key order of a default-filter answer item (fixture 3).
ANSWER_KEYS = ("owner", "is_accepted", "score", "last_activity_date", "last_edit_date",
               "creation_date", "answer_id", "question_id", "content_license")
ANSWER_SORTS = {"activity": "last_activity_date", "creation": "creation_date", "votes": "score"}
# Markup of every kind a body must lose, each around text it must keep.
HOSTILE_MARKUP = (
    '<p>See <a href="javascript:alert(1)">the trick</a> or <a href="https://example.org/docs">'
    'the docs</a>.</p>\n<script>alert("body")</script>\n'
    '<p onmouseover="alert(2)">Hover text</p>\n<img src="x.png" onerror="alert(3)" alt="a chart">\n'
    '<img src="https://i.stack.imgur.com/chart.png" alt="the chart">\n'
    '<iframe src="https://evil.example/">framed text</iframe>\n'
    '<style>body { display: none }</style>\n'
    '<form action="https://evil.example/"><input name="q">form text</form>\n'
)
CYRILLIC = "<p>Пример: почему это не работает? Спасибо заранее.</p>\n"


def hostile(number):
    """Whether the body of question or answer `number` carries HOSTILE_MARKUP."""
    return number % 5 == 0


def body_html(item):
    """A question's body: its title encoded once (the markup is real), maybe more."""
    qid = item["question_id"]
    extra = (HOSTILE_MARKUP if hostile(qid) or "<" in item["title"] else "")
    extra += CYRILLIC if qid % 3 == 0 else ""
    return (f"<p>{entity(item['title'])}</p>\n<p>I tried the obvious approach first:</p>\n"
            f"<pre><code>{entity(' '.join(item['tags']))}\n</code></pre>\n{extra}"
            "<p>What am I missing?</p>\n")


def answer_ids(questions):
    """{question id: its answers' ids}: answer_count of them (fewer where ids run short),
    the accepted one among them, each id unique on the site. A question's answers take ids
    after its own, up to 90 on and below the next question's; accepted ids are kept."""
    taken = {q["accepted_answer_id"] for q in questions if q.get("accepted_answer_id")}
    ordered = sorted(questions, key=lambda q: q["question_id"])
    out = {}
    for question, after in zip(ordered, [*ordered[1:], None], strict=True):
        qid, accepted = question["question_id"], question.get("accepted_answer_id")
        end = min(qid + 91, after["question_id"] if after else qid + 91)
        pool = [i for i in range(qid + 1, end) if i not in taken]
        wanted = max(0, question["answer_count"] - (accepted is not None))
        chosen = random.Random(qid).sample(pool, min(wanted, len(pool)))
        out[qid] = sorted(chosen + ([accepted] if accepted is not None else []))
    return out


def answers_of(question, ids):
    """The answers of `question` (a raw item) with the ids `ids`."""
    qid = question["question_id"]
    rng = random.Random(qid)
    accepted = question.get("accepted_answer_id")
    site_url = question["link"].split("/questions/")[0]
    created, active = question["creation_date"], question["last_activity_date"]
    out = []
    for aid in ids:
        uid = rng.randint(1000, 32_000_000)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        when = rng.randint(created, max(created, active))
        out.append({
            "owner": {"account_id": uid + 7, "reputation": rng.randint(1, 90_000),
                      "user_id": uid, "user_type": "registered", "display_name": name,
                      "link": f"{site_url}/users/{uid}/{slugify(name)}"},
            "is_accepted": aid == accepted, "score": int(rng.lognormvariate(0.5, 1.5)),
            "last_activity_date": max(when, rng.randint(when, max(when, active))),
            "creation_date": when, "answer_id": aid, "question_id": qid,
            "content_license": question["content_license"],
        })
    return out


def answer_body(item):
    aid = item["answer_id"]
    extra = HOSTILE_MARKUP if hostile(aid) else ""
    extra += CYRILLIC if aid % 3 == 0 else ""
    return (f"<p>Answer {aid}: use <code>the standard library</code>.</p>\n{extra}"
            "<pre><code>print('done')\n</code></pre>\n")


def public_answer(item, *, encode=True, body=False):
    out = {key: item[key] for key in ANSWER_KEYS if key in item}
    out["owner"] = dict(item["owner"])
    if encode:
        out["owner"]["display_name"] = entity(out["owner"]["display_name"])
    if body:
        out["body"] = answer_body(item)
    return out


def run_answers(questions, ids, params):
    """The answers of the questions `ids` names, sorted as `params` asks."""
    if len(ids) > 100:
        raise bad_parameter("ids")
    sort, order = params.get("sort") or "activity", params.get("order") or "desc"
    if sort not in ANSWER_SORTS:
        raise bad_parameter("sort")
    if order not in ("asc", "desc"):
        raise bad_parameter("order")
    wanted = {int(i) for i in ids}
    asked = [q for q in questions if q["question_id"] in wanted and q["answer_count"] > 0]
    ids_of = answer_ids(questions) if asked else {}
    items = [a for q in asked for a in answers_of(q, ids_of[q["question_id"]])]
    key = ANSWER_SORTS[sort]
    items.sort(key=lambda a: (a[key], a["answer_id"]), reverse=order == "desc")
    return items

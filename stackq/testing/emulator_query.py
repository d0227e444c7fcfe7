"""Search, order, encode and mutate the emulator's questions, as the API does."""

import html
import random
import re
from dataclasses import dataclass, field

from .emulator_data import QUESTION_KEYS, make_question, slugify

SORT_FIELDS = {"activity": "last_activity_date", "creation": "creation_date", "votes": "score",
               "relevance": None}
_INTS = ("answers", "views", "user", "fromdate", "todate", "min", "max")


class ApiError(Exception):
    """An error answer of the API; it goes out as HTTP 400 with the three error_* fields."""

    def __init__(self, error_id, name, message):
        super().__init__(message)
        self.error_id, self.name, self.message = error_id, name, message

    def body(self):
        return {"error_id": self.error_id, "error_message": self.message, "error_name": self.name}


def bad_parameter(message):
    return ApiError(400, "bad_parameter", message)


def entity(text):
    """Encode like the API's safe filter, which writes &#39; where html.escape writes &#x27;."""
    return html.escape(text, quote=True).replace("&#x27;", "&#39;")


@dataclass
class Query:
    """Criteria of /search, /search/advanced and /questions/{ids}."""

    q: list = field(default_factory=list)        # lower-case words, each in title or tags
    title: list = field(default_factory=list)    # lower-case words, each in the title
    tagged: set = field(default_factory=set)     # any of these tags
    nottagged: set = field(default_factory=set)  # none of these tags
    ids: set | None = None
    accepted: bool | None = None
    closed: bool | None = None
    answers: int | None = None
    views: int | None = None
    user: int | None = None
    fromdate: int | None = None
    todate: int | None = None
    min: int | None = None
    max: int | None = None
    sort: str = "activity"
    order: str = "desc"

    @classmethod
    def build(cls, q=None, tagged=None, sort="activity", order="desc", **criteria):
        """From Python values; tagged is ';'-separated like the API's."""
        if sort not in SORT_FIELDS:
            raise bad_parameter("sort")
        if order not in ("asc", "desc"):
            raise bad_parameter("order")
        return cls(q=(q or "").lower().split(), tagged=split_tags(tagged), sort=sort, order=order,
                   **criteria)

    @classmethod
    def from_params(cls, params, *, sorts=tuple(SORT_FIELDS)):
        """From HTTP parameters, raising bad_parameter for malformed ones."""
        values = {}
        for name in _INTS:
            if params.get(name, "") != "":
                try:
                    values[name] = int(params[name])
                except ValueError:
                    raise bad_parameter(name) from None
        for name in ("accepted", "closed"):
            if params.get(name, "") != "":
                if params[name].lower() not in ("true", "false"):
                    raise bad_parameter(name)
                values[name] = params[name].lower() == "true"
        if params.get("sort", "activity") not in sorts:
            raise bad_parameter("sort")
        title = params.get("title") or params.get("intitle") or ""
        return cls.build(q=params.get("q"), tagged=params.get("tagged"),
                         sort=params.get("sort", "activity"), order=params.get("order", "desc"),
                         title=title.lower().split(), nottagged=split_tags(params.get("nottagged")),
                         **values)

    def matches(self, item):
        title, tags = item["title"].lower(), item["tags"]
        if any(w not in title and not any(w in t for t in tags) for w in self.q):
            return False
        if any(w not in title for w in self.title):
            return False
        if self.tagged and self.tagged.isdisjoint(tags) or not self.nottagged.isdisjoint(tags):
            return False
        if self.ids is not None and item["question_id"] not in self.ids:
            return False
        if self.accepted is not None and ("accepted_answer_id" in item) != self.accepted:
            return False
        if self.closed is not None and ("closed_date" in item) != self.closed:
            return False
        at_least = ((self.answers, item["answer_count"]), (self.views, item["view_count"]),
                    (self.fromdate, item["creation_date"]))
        if any(low is not None and value < low for low, value in at_least):
            return False
        if self.todate is not None and item["creation_date"] > self.todate:
            return False
        if self.user is not None and item["owner"].get("user_id") != self.user:
            return False
        sort_field = SORT_FIELDS[self.sort]
        if sort_field and self.min is not None and item[sort_field] < self.min:
            return False
        return not (sort_field and self.max is not None and item[sort_field] > self.max)

    def sort_key(self, item):
        # question_id last makes every key unique, so asc is exactly desc reversed.
        if self.sort == "relevance":
            title, tags = item["title"].lower(), item["tags"]
            terms = self.q + self.title
            rank = sum(2 * (w in title) + any(w in t for t in tags) for w in terms)
            return (rank, item["score"], item["question_id"])
        return (item[SORT_FIELDS[self.sort]], item["question_id"])

    def run(self, questions):
        """The matching questions in the query's order (the stored dicts themselves)."""
        found = [item for item in questions if self.matches(item)]
        return sorted(found, key=self.sort_key, reverse=self.order == "desc")


def split_tags(tagged):
    return {t.strip().lower() for t in (tagged or "").split(";") if t.strip()}


def public_question(item, *, encode=True, body=None):
    """A copy in the captured key order; encode=True entity-encodes strings like the wire does;
    `body(item)` makes its body, when the filter asks for one."""
    out = {key: item[key] for key in QUESTION_KEYS if key in item}
    out["tags"], out["owner"] = list(item["tags"]), dict(item["owner"])
    if encode:
        out["owner"]["display_name"] = entity(out["owner"]["display_name"])
        out["title"] = entity(out["title"])
    if body is not None:
        out["body"] = body(item)
    return out


def public_site(site):
    """A /sites item with its strings encoded like every other answer."""
    out = dict(site, name=entity(site["name"]), audience=entity(site["audience"]))
    out["related_sites"] = [dict(r, name=entity(r["name"])) for r in site["related_sites"]]
    return out


_NEW_TITLES = ("How do I use {q} with {thing}?", "{q}: unexpected result from {thing}",
               "Why is {q} slower than {thing}?", "Best practice for {q} and {thing} in 2026")
_THINGS = ("a background worker", "the standard library", "a large file", "unit tests",
           "a web server")
_EDIT = re.compile(r" \(edit \d+\)$")


def mutate(questions, url, *, q, tagged, new, changed, removed, serial, now, protected,
           rescored=0):
    """Change one search's results in place; returns the affected question ids.

    Changed and removed questions are drawn from the search's first page by activity, so a
    watcher of page 1 sees them; rescored ones from anywhere in its results (votes do not
    move activity, so only a re-read finds them). The hostile items (protected) are never
    touched.
    """
    rng = random.Random(f"{serial}|{q}|{tagged}")
    current = [it for it in Query.build(q=q, tagged=tagged).run(questions)
               if it["question_id"] not in protected]
    count = min(changed + removed, len(current))
    picks = rng.sample(current[:max(30, count)], count)
    stamp = max(now, max(it["last_activity_date"] for it in questions) + 1)
    for offset, item in enumerate(picks[:changed]):
        item["title"] = f"{_EDIT.sub('', item['title'])} (edit {serial})"
        item["link"] = f"{url}/questions/{item['question_id']}/{slugify(item['title'])}"
        item.update(score=item["score"] + rng.choice((-2, -1, 1, 2, 3, 5)),
                    answer_count=item["answer_count"] + 1, is_answered=True,
                    view_count=item["view_count"] + rng.randint(10, 500),
                    last_activity_date=stamp + offset, last_edit_date=stamp + offset)
    gone = {it["question_id"] for it in picks[changed:]}
    questions[:] = [it for it in questions if it["question_id"] not in gone]
    # A new question matches the search: its title holds every word of q, its tags one of tagged.
    words = (q or "").lower().split()
    tags = sorted(split_tags(tagged))[:1]
    tags = tags or [w for w in words if re.fullmatch(r"[a-z0-9.#+-]+", w)][:5] or ["discussion"]
    added = new_questions(questions, url, rng, count=new, tags=tags, subject=q or tags[0],
                          first=stamp + min(changed, len(picks)))
    chosen = {it["question_id"] for it in picks}
    rest = [it for it in current if it["question_id"] not in chosen]
    voted = rng.sample(rest, min(rescored, len(rest)))
    for item in voted:
        item.update(score=item["score"] + rng.choice((-1, 1, 2, 4)),
                    view_count=item["view_count"] + rng.randint(1, 50))
    return {"new": added, "changed": [it["question_id"] for it in picks[:changed]],
            "removed": sorted(gone), "rescored": sorted(it["question_id"] for it in voted)}


def new_questions(questions, url, rng, *, count, tags, subject, first, spacing=1):
    """Add `count` questions tagged `tags`, created (and active) from `first` on, `spacing`
    seconds apart; their ids."""
    owners = [it["owner"] for it in questions if it["owner"]["user_type"] == "registered"]
    qid, added = max(it["question_id"] for it in questions), []
    for offset in range(count):
        qid += rng.randint(100, 5000)  # room for the accepted answer id make_question may draw
        title = rng.choice(_NEW_TITLES).format(q=subject, thing=rng.choice(_THINGS))
        when = first + offset * spacing
        questions.append(make_question(rng, qid=qid, created=when, activity=when, tags=list(tags),
                                       owner=dict(rng.choice(owners)), title=title, url=url))
        added.append(qid)
    return added

"""The emulator's sites and questions: generated once from a fixed seed."""

import calendar
import hashlib
import random
import re
import unicodedata
from functools import cache

from .emulator_sites import (
    ACTS,
    CLOSED_REASONS,
    CODE_TEMPLATES,
    FIRST_NAMES,
    LAST_NAMES,
    MATH_ACTS,
    MATH_TEMPLATES,
    PROBLEMS,
    SITE_DEFS,
)

SEED = 2300
# Fixed "now" of the data, so every run sees the same dates; mutations move past it.
DATA_NOW = calendar.timegm((2026, 11, 1, 0, 0, 0))
_START = calendar.timegm((2009, 1, 1, 0, 0, 0))
_CC_30 = calendar.timegm((2011, 4, 8, 0, 0, 0))
_CC_40 = calendar.timegm((2018, 5, 2, 0, 0, 0))

# Key order of a default-filter question item, as in the captured answers.
QUESTION_KEYS = (
    "tags", "owner", "is_answered", "view_count", "closed_date", "accepted_answer_id",
    "answer_count", "score", "last_activity_date", "creation_date", "last_edit_date",
    "question_id", "content_license", "link", "closed_reason", "title",
)

HOSTILE_TITLES = {
    "quotes": 'What does the "yield" keyword do in Python?',
    "ampersand": "Python's & operator",
    "script": "Why does <script>alert(1)</script> run when I render a Python string?",
    "img": "Python HTML sanitizer lets <img src=x onerror=alert(1)> through",
    "unicode": "Python: ünïcödé — 日本語 ✓",
    "deleted_owner": "Why can't I pickle a lambda in Python?",
    "owner_name": "Python 'is' vs '==' when comparing strings",
}
# Stack Overflow ids of the hostile items: all match q=python and come first by activity.
HOSTILE_QUESTION_IDS = {
    "quotes": 231767, "ampersand": 79900011, "script": 79900023, "img": 79900037,
    "unicode": 79900041, "deleted_owner": 79900053, "owner_name": 79900067,
}
DELETED_OWNER = {"user_type": "does_not_exist", "display_name": "user12345"}
HOSTILE_DISPLAY_NAME = "Renée \"<b>root</b>\" O'Brien & Co"

def slugify(text, limit=80):
    """The URL slug Stack Exchange appends to a question or user link."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "question"


def content_license(created):
    if created >= _CC_40:
        return "CC BY-SA 4.0"
    return "CC BY-SA 3.0" if created >= _CC_30 else "CC BY-SA 2.5"


def make_site(api, name, url, audience, launch, closed_beta, colours):
    """A /sites item in the key order of the captured answer."""
    bg, fg, link = colours.split()
    cdn = f"https://cdn.sstatic.net/Sites/{api}/Img"
    return {
        "styling": {"tag_background_color": bg, "tag_foreground_color": fg, "link_color": link},
        "related_sites": [{"relation": "meta", "api_site_parameter": f"meta.{api}",
                           "site_url": url.replace("https://", "https://meta."),
                           "name": f"{name} Meta"}],
        "markdown_extensions": ["Prettify"], "launch_date": launch,
        "closed_beta_date": closed_beta, "site_state": "normal",
        "high_resolution_icon_url": f"{cdn}/apple-touch-icon@2.png",
        "favicon_url": f"{cdn}/favicon.ico", "icon_url": f"{cdn}/apple-touch-icon.png",
        "audience": audience, "site_url": url, "api_site_parameter": api,
        "logo_url": f"{cdn}/logo.png", "name": name, "site_type": "main_site",
    }


def _users(rng, api, url, count):
    users = []
    for _ in range(count):
        uid = rng.randint(1000, 32_000_000)
        if rng.random() < 0.2:
            name = f"user{uid}"
        else:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        digest = hashlib.md5(f"{api}:{uid}".encode()).hexdigest()
        reputation = min(int(rng.lognormvariate(4, 2.2)) + 1, 1_400_000)
        owner = {"account_id": uid + rng.randint(1, 9_000_000), "reputation": reputation,
                 "user_id": uid, "user_type": "registered"}
        if rng.random() < 0.25:
            owner["accept_rate"] = rng.randint(40, 100)
        owner["profile_image"] = f"https://www.gravatar.com/avatar/{digest}?s=256&d=identicon&r=PG"
        owner["display_name"] = name
        owner["link"] = f"{url}/users/{uid}/{slugify(name)}"
        users.append(owner)
    return users


def _title(rng, topic, math):
    _, _, _, _, techs, things, errors = topic
    things, errors = things.split("|"), errors.split("|")
    thing = rng.choice(things)
    return rng.choice(MATH_TEMPLATES if math else CODE_TEMPLATES).format(
        act=rng.choice(MATH_ACTS if math else ACTS), thing=thing,
        thing2=rng.choice([t for t in things if t != thing] or things),
        tech=rng.choice(techs.split("|")), problem=rng.choice(errors if math else PROBLEMS),
        error=rng.choice(errors),
    )


def make_question(rng, *, qid, created, activity, tags, owner, title, url):
    """One question item in canonical key order; the optional fields drawn from rng."""
    answers = rng.choice((0, 0, 1, 1, 1, 2, 2, 3, 4, 6))
    if rng.random() < 0.03:
        answers += rng.randint(0, 30)
    accepted = answers > 0 and rng.random() < 0.5
    closed = rng.random() < 0.04
    score = int(rng.lognormvariate(0.8, 1.4)) - rng.choice((0, 0, 0, 1, 3))
    views = int((activity - created) / 86400 * rng.uniform(0.3, 12)) + 40 * max(score, 0)
    item = {"tags": tags, "owner": owner,
            "is_answered": accepted or (answers > 0 and rng.random() < 0.6),
            "view_count": max(5, views)}
    if closed:
        item["closed_date"] = rng.randint(created, activity)
    if accepted:
        item["accepted_answer_id"] = qid + rng.randint(1, 90)  # ids leave room for answers
    item.update(answer_count=answers, score=score, last_activity_date=activity,
                creation_date=created)
    if rng.random() < 0.4:
        item["last_edit_date"] = rng.randint(created, activity)
    item.update(question_id=qid, content_license=content_license(created),
                link=f"{url}/questions/{qid}/{slugify(title)}")
    if closed:
        item["closed_reason"] = rng.choice(CLOSED_REASONS)
    item["title"] = title
    return item


def _hostile(rng, users, url):
    """The awkward Stack Overflow items, newest by activity in the order of HOSTILE_QUESTION_IDS."""
    named = users[0]
    owners = {"deleted_owner": DELETED_OWNER,
              "img": {**DELETED_OWNER, "display_name": "user67890"},
              "owner_name": {**named, "display_name": HOSTILE_DISPLAY_NAME,
                             "link": f"{url}/users/{named['user_id']}/"
                                     f"{slugify(HOSTILE_DISPLAY_NAME)}"}}
    out = []
    for rank, (kind, qid) in enumerate(HOSTILE_QUESTION_IDS.items()):
        created = _START + 3 * 86400 if kind == "quotes" else DATA_NOW - (40 + rank) * 86400
        tags = ["python", "iterator", "generator"] if kind == "quotes" else ["python", "html"]
        out.append(make_question(rng, qid=qid, created=created, tags=tags,
                                 activity=DATA_NOW - (rank + 1) * 900, url=url,
                                 owner=dict(owners.get(kind, users[rank + 1])),
                                 title=HOSTILE_TITLES[kind]))
    # The famous one keeps its real numbers.
    out[0].update(score=13135, view_count=3499866, answer_count=51, accepted_answer_id=231855,
                  is_answered=True)
    return out


def generate_site(index):
    """All questions of SITE_DEFS[index]."""
    api, _, url, _, launch, _, count, topics, _ = SITE_DEFS[index]
    rng = random.Random(SEED + index)
    users = _users(rng, api, url, max(150, count // 3))
    hostile = _hostile(rng, users, url) if api == "stackoverflow" else []
    plan = []
    for topic in topics[1:]:
        plan += [topic] * topic[1]
    plan += [topics[0]] * (count - len(hostile) - len(plan))
    rng.shuffle(plan)
    dates = sorted(rng.randint(max(_START, launch), DATA_NOW - 86400) for _ in plan)
    # Ids grow with creation date, as on the real sites.
    gap = (79_000_000 if api == "stackoverflow" else 5_000_000) // count
    qid, reserved = gap, set(HOSTILE_QUESTION_IDS.values())
    questions = []
    for topic, created in zip(plan, dates, strict=True):
        qid += rng.randint(gap // 2, gap * 3 // 2)
        while qid in reserved:
            qid += 1
        optional = topic[3].split()
        tags = topic[2].split() + rng.sample(optional, rng.randint(0, min(3, len(optional))))
        if rng.random() < 0.015:
            owner = dict(DELETED_OWNER, display_name=f"user{rng.randint(10_000, 9_999_999)}")
        else:
            owner = dict(rng.choice(users))
        # Ordinary activity stays two hours below DATA_NOW, under the hostile items.
        activity = rng.randint(created, DATA_NOW - 7200)
        questions.append(make_question(rng, qid=qid, created=created, activity=activity,
                                       tags=tags, owner=owner, url=url,
                                       title=_title(rng, topic, api == "math")))
    return questions + hostile


@cache
def pristine():
    """{api_site_parameter: (site item, tuple of questions)}; callers copy before changing."""
    return {d[0]: (make_site(*d[:6], d[8]), tuple(generate_site(i)))
            for i, d in enumerate(SITE_DEFS)}

"""The search box's language, as on Stack Exchange: any text in, a typed query out.

Words (all must match), `"exact phrase"`, `-word` / `-"phrase"` (exclude), `a OR b`,
`tag:python` (repeatable, all of them), `site:superuser`, `is:answered`, `is:accepted`,
`score:N` (at least N), `answers:N` (at least N; `answers:0`: none), `created:2024`,
`created:2024-01..2024-06` (either end may be left out). Nothing here raises: what is not
understood is searched as words, and `notes` says so.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

MAX_LENGTH = 1000  # characters read; a longer query is cut (and says so)
MAX_TERMS = 32  # words and phrases searched; the rest are left out (and it says so)
# Control characters, and the private-use marks stackq puts in indexed text (fulltext.py).
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ue000-\ue00f]")
_TOKEN = re.compile(r'(-?)"([^"]*)("?)|(\S+)')
_FILTER = re.compile(r"^(tag|site|is|score|answers|created):(.*)$", re.I)
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")
_SITE = re.compile(r"^[a-z0-9.\-]{1,60}$")


@dataclass(frozen=True)
class Phrase:
    """Words that must appear together, in this order (one word: a phrase of one)."""

    text: str


@dataclass(frozen=True)
class SearchQuery:
    # Each entry: alternatives of which one must match (`a OR b`); most hold one phrase.
    required: tuple = ()
    excluded: tuple = ()  # Phrases none of which may match
    tags: tuple = ()
    sites: tuple = ()
    answered: bool = False
    accepted: bool = False
    min_score: int | None = None
    min_answers: int | None = None
    created_from: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    notes: tuple = field(default=(), compare=False)

    @property
    def has_words(self):
        return bool(self.required)

    @property
    def empty(self):
        return self == SearchQuery()


def searchable(text):
    """Whether `text` holds a letter or digit: something an index has words for."""
    return any(ch.isalnum() for ch in text)


def parse_query(text):
    """The SearchQuery of any text."""
    text = _CONTROL.sub(" ", text or "")
    notes = []
    if len(text) > MAX_LENGTH:
        text = text[:MAX_LENGTH]
        notes.append(f"Only the first {MAX_LENGTH} characters were searched.")
    builder = _Builder(notes)
    for match in _TOKEN.finditer(text):
        minus, quoted, closed, bare = match.groups()
        if bare is None:
            if closed:
                builder.phrase(quoted, excluded=bool(minus))
            else:  # an unbalanced quote: its words, one by one
                for word in quoted.split():
                    builder.word(word, excluded=bool(minus))
        else:
            builder.bare(bare)
    return builder.done()


class _Builder:
    def __init__(self, notes):
        self.notes = notes
        self.groups, self.excluded, self.filters = [], [], {}
        self.tags, self.sites = [], []
        self.pending_or = False
        self.terms = 0

    def bare(self, token):
        if token == "OR":
            if self.groups and not self.pending_or:
                self.pending_or = True
            else:
                self.word("OR")  # nothing on its left: the word "or"
            return
        if token.startswith("-") and len(token) > 1:
            self.word(token[1:], excluded=True)
            return
        found = _FILTER.match(token)
        if found and self.filter(found.group(1).lower(), found.group(2)):
            return
        self.word(token)

    def word(self, text, excluded=False):
        self.phrase(text, excluded)

    def phrase(self, text, excluded=False):
        text = " ".join(text.split())
        if not searchable(text):
            return  # punctuation alone (a lone `-`): no word to look for
        if self.terms >= MAX_TERMS:
            if self.terms == MAX_TERMS:
                self.notes.append(f"Only the first {MAX_TERMS} words and phrases were searched.")
            self.terms += 1
            return
        self.terms += 1
        term = Phrase(text)
        if excluded:
            self.excluded.append(term)
        elif self.pending_or:
            self.groups[-1] = (*self.groups[-1], term)
            self.pending_or = False
        else:
            self.groups.append((term,))

    def filter(self, key, value):
        """Apply `key:value`; False when it means nothing (then it is searched as words)."""
        value = value.strip()
        lowered = value.lower()
        if key == "tag" and value and " " not in value:
            self.tags.append(lowered)
        elif key == "site" and _SITE.match(lowered):
            self.sites.append(lowered)
        elif key == "is" and lowered in ("answered", "accepted"):
            self.filters[lowered] = True
        elif key in ("score", "answers") and re.fullmatch(r"-?\d{1,9}", value):
            if key == "answers" and int(value) < 0:
                return self.not_understood(key, value)
            self.filters[key] = int(value)
        elif key == "created" and (span := date_span(value)) is not None:
            self.filters["created"] = span
        else:
            return self.not_understood(key, value)
        return True

    def not_understood(self, key, value):
        self.notes.append(f"{key}:{value} is not a filter stackq knows: searched as words.")
        return False

    def done(self):
        if self.pending_or:
            self.groups.append((Phrase("OR"),))  # `a OR` with nothing after: the word too
        created = self.filters.get("created", (None, None))
        return SearchQuery(
            required=tuple(self.groups), excluded=tuple(self.excluded),
            tags=tuple(dict.fromkeys(self.tags)), sites=tuple(dict.fromkeys(self.sites)),
            answered=self.filters.get("answered", False),
            accepted=self.filters.get("accepted", False),
            min_score=self.filters.get("score"), min_answers=self.filters.get("answers"),
            created_from=created[0], created_before=created[1], notes=tuple(self.notes))


def date_span(value):
    """(first moment, moment after) of `2024`, `2024-05`, `2024-05-07` or `A..B`; else None."""
    if ".." in value:
        start, _, end = value.partition("..")
        first = date_bounds(start) if start else (None, None)
        last = date_bounds(end) if end else (None, None)
        if first is None or last is None or (start == "" and end == ""):
            return None
        return first[0], last[1]
    return date_bounds(value)


def date_bounds(text):
    found = _DATE.match(text)
    if found is None:
        return None
    year, month, day = (int(part) if part else None for part in found.groups())
    try:
        first = datetime(year, month or 1, day or 1)
        if day:
            after = datetime.fromordinal(first.toordinal() + 1)
        elif month:
            after = datetime(year + (month == 12), month % 12 + 1, 1)
        else:
            after = datetime(year + 1, 1, 1)
    except (ValueError, OverflowError):
        return None
    return first, after

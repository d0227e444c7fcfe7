"""Typed, decoded API items.

The API's default filter HTML-escapes strings; we unescape titles and names
exactly once here, on ingest, and store/render plain text (templates escape).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timezone

from .bodies import clean_body

__all__ = ["Answer", "Owner", "Question", "from_unix", "parse_answer", "parse_each",
           "parse_owner", "parse_question"]


@dataclass(frozen=True)
class Owner:
    user_id: int | None
    display_name: str
    user_type: str
    reputation: int | None
    link: str | None
    profile_image: str | None


@dataclass(frozen=True)
class Question:
    question_id: int
    title: str
    link: str
    tags: tuple[str, ...]
    score: int
    answer_count: int
    view_count: int
    is_answered: bool
    accepted_answer_id: int | None
    creation_date: datetime
    last_activity_date: datetime
    last_edit_date: datetime | None
    closed_date: datetime | None
    closed_reason: str | None
    content_license: str | None
    owner: Owner | None
    body: str | None = None  # sanitised HTML; None when the filter sent no body


@dataclass(frozen=True)
class Answer:
    answer_id: int
    question_id: int
    score: int
    is_accepted: bool
    creation_date: datetime
    last_activity_date: datetime
    last_edit_date: datetime | None
    content_license: str | None
    owner: Owner | None
    body: str | None


def from_unix(value) -> datetime | None:
    """Unix seconds -> tz-aware UTC datetime; None stays None."""
    if value is None:
        return None
    return datetime.fromtimestamp(int(value), tz=timezone.utc)


# The range of the columns that hold ids and numbers (PostgreSQL's integer): a number past
# it failed the statement storing it, and with it the whole page it came in.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def _id(value) -> int:
    """An id; ValueError (the item is skipped) past what the columns hold."""
    number = int(value)
    if not INT_MIN <= number <= INT_MAX:
        raise ValueError(f"an id out of range: {number}")
    return number


def _opt_id(value) -> int | None:
    return None if value is None else _id(value)


def _number(value) -> int:
    """A score or a count, held within what the columns hold."""
    return min(max(int(value), INT_MIN), INT_MAX)


def _opt_number(value) -> int | None:
    return None if value is None else _number(value)


def _opt_text(value) -> str | None:
    """A field of text, or None when absent or no text (a number or an object there)."""
    return value if isinstance(value, str) else None


def _unescape(value) -> str:
    return html.unescape(str(value)) if value is not None else ""


def parse_owner(data: dict | None) -> Owner | None:
    """An owner (shallow user); deleted ones (``does_not_exist``) lack id, link, reputation.
    None without one, or for one that is not one (no object, an id that is no id): its post
    is kept, without an owner."""
    if not isinstance(data, dict) or not data:
        return None
    try:
        user_id, reputation = _opt_id(data.get("user_id")), _opt_number(data.get("reputation"))
    except (TypeError, ValueError):
        return None
    return Owner(
        user_id=user_id,
        display_name=_unescape(data.get("display_name")),
        user_type=str(data.get("user_type") or "unknown"),
        reputation=reputation,
        link=_opt_text(data.get("link")),
        profile_image=_opt_text(data.get("profile_image")),
    )


# Past any tag Stack Exchange allows (35 characters; 5 tags a question): such tags are
# dropped, so a question's tags stay within what indexes them (PostgreSQL refuses a lexeme
# over 2,047 bytes and an index row over 2,704; 8 tags of 64 four-byte characters fit).
MAX_TAG_LENGTH, MAX_TAGS = 64, 8


def parse_tags(value) -> tuple[str, ...]:
    """An item's tags, kept exactly as sent (slugs, used verbatim in URLs), but those empty
    or longer than MAX_TAG_LENGTH, and only the first MAX_TAGS; ValueError if `value` is
    not a list of strings."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ValueError(f"tags are not a list of strings: {value!r:.80}")
    return tuple(tag for tag in value if 0 < len(tag) <= MAX_TAG_LENGTH)[:MAX_TAGS]


def parse_question(item: dict) -> Question:
    """Decode one question item of the default filter; ValueError if it is not one."""
    try:
        closed_reason = item.get("closed_reason")
        return Question(
            question_id=_id(item["question_id"]),
            title=_unescape(item.get("title")),
            link=str(item.get("link") or ""),
            tags=parse_tags(item.get("tags")),
            score=_number(item.get("score", 0)),
            answer_count=_number(item.get("answer_count", 0)),
            view_count=_number(item.get("view_count", 0)),
            is_answered=bool(item.get("is_answered", False)),
            accepted_answer_id=_opt_id(item.get("accepted_answer_id")),
            creation_date=from_unix(item["creation_date"]),
            last_activity_date=from_unix(item.get("last_activity_date", item["creation_date"])),
            last_edit_date=from_unix(item.get("last_edit_date")),
            closed_date=from_unix(item.get("closed_date")),
            closed_reason=_unescape(closed_reason) if closed_reason is not None else None,
            content_license=_opt_text(item.get("content_license")),
            owner=parse_owner(item.get("owner")),
            body=clean_body(item.get("body")),
        )
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError,
            OSError) as exc:
        qid = item.get("question_id") if isinstance(item, dict) else None
        raise ValueError(f"not a question item (question_id={qid!r}): {exc!r}") from exc


def parse_answer(item: dict) -> Answer:
    """Decode one answer item (with or without its body); ValueError if it is not one."""
    try:
        return Answer(
            answer_id=_id(item["answer_id"]),
            question_id=_id(item["question_id"]),
            score=_number(item.get("score", 0)),
            is_accepted=bool(item.get("is_accepted", False)),
            creation_date=from_unix(item["creation_date"]),
            last_activity_date=from_unix(item.get("last_activity_date", item["creation_date"])),
            last_edit_date=from_unix(item.get("last_edit_date")),
            content_license=_opt_text(item.get("content_license")),
            owner=parse_owner(item.get("owner")),
            body=clean_body(item.get("body")),
        )
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError,
            OSError) as exc:
        aid = item.get("answer_id") if isinstance(item, dict) else None
        raise ValueError(f"not an answer item (answer_id={aid!r}): {exc!r}") from exc


def parse_each(items, parse, log, what):
    """What `parse` makes of each of `items`; one it refuses (ValueError) is logged on `log`
    ("skipping `what`: why") and skipped, so the rest of its page is stored."""
    parsed = []
    for item in items:
        try:
            parsed.append(parse(item))
        except ValueError as error:
            log.warning("skipping %s: %s", what, error)
    return parsed

"""Report writers for CSV, JSON and JSON Lines: rows in, bytes out, one row at a time."""

import csv
import io
import json
from datetime import datetime

# The report's columns, in order: CSV and XLSX headers, JSON keys.
COLUMNS = (
    "question_id", "title", "link", "score", "answers", "views", "answered",
    "accepted_answer_id", "tags", "owner", "created", "last_activity", "closed_reason", "body",
)
# JSON keeps the body's (sanitised) HTML too.
JSON_COLUMNS = (*COLUMNS, "body_html")
# A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def utc_text(moment):
    """Stored times are naive UTC: `2026-11-01T09:30:00Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def neutralised(text):
    """A leading quote makes a would-be formula plain text in every spreadsheet."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, list):
        value = ";".join(value)
    if isinstance(value, str):
        return neutralised(value)
    return value  # numbers stay numbers: "-3" is a score, not a formula


def write_csv(rows, out):
    """UTF-8 with a BOM (so Excel reads it as UTF-8), RFC 4180: CRLF, quotes doubled."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(COLUMNS)
        count = 0
        for row in rows:
            writer.writerow([csv_value(row[name]) for name in COLUMNS])
            count += 1
        text.flush()
        return count
    finally:
        text.detach()  # the caller owns `out`


def json_value(value):
    return utc_text(value) if isinstance(value, datetime) else value


def json_line(row):
    return json.dumps({name: json_value(row[name]) for name in JSON_COLUMNS},
                      ensure_ascii=False)


def write_json(rows, out):
    """One JSON array of objects, written as the rows come."""
    count = 0
    out.write(b"[")
    for row in rows:
        out.write((",\n" if count else "\n").encode() + json_line(row).encode("utf-8"))
        count += 1
    out.write(b"\n]\n")
    return count


def write_jsonl(rows, out):
    """JSON Lines: one object a line."""
    count = 0
    for row in rows:
        out.write(json_line(row).encode("utf-8") + b"\n")
        count += 1
    return count

"""Upstream text made storable. The API's JSON can carry what no database takes: a NUL
(`\\u0000`; PostgreSQL refuses it in text) or half of a surrogate pair (`\\ud800` alone;
neither database can encode it). One such string in an item failed the transaction that
stored it, and with it the whole page, on every retry. Every string of every item becomes
storable as the answer is read (client.response_from_body), each such character a U+FFFD."""

import re

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value):
    """`value` (decoded JSON) with the NULs and lone surrogates of its strings replaced."""
    if isinstance(value, str):
        return _UNSTORABLE.sub(REPLACEMENT, value)
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {key: storable(item) for key, item in value.items()}
    return value

"""Answers the server writes itself, instead of the app's: a refused body, a refused handshake.

Imports nothing that imports ``ssl`` (gunicorn imports this before its workers patch).
"""

import json

API_PREFIX = "/api/"  # the JSON API's paths: refusals there are JSON too


def answering(status, message):
    """A WSGI app that answers `status` with `message`: in plain text, or under /api/ as the
    JSON API's errors are (`{"errors": [{"field": "request", "message": ...}]}`)."""
    def answer(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(API_PREFIX):
            start_response(status, [("Content-Type", "application/json")])
            return [json.dumps({"errors": [{"field": "request", "message": message}]}).encode()]
        return plain_answer(start_response, status, message)

    return answer


def plain_answer(start_response, status, message, headers=()):
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), *headers])
    return [message.encode("utf-8") + b"\n"]

"""Pages of a running server as a visitor's client gets them, error pages included."""

import urllib.error
import urllib.request


def get(server, path, timeout=20):
    """(status, body) of GET `path` on `server` (a serverproc.RunningServer)."""
    try:
        with urllib.request.urlopen(server.url + path, timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()

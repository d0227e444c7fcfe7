"""The one way tests save a search: the form, as a browser sends it (token, POST, 303).

`save_search` drives a webtest app; `save_search_through` a real server over HTTP.
"""

import http.cookiejar
import re
import urllib.parse
import urllib.request

TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def form_token(page_html):
    return TOKEN.search(page_html).group(1)


def form(token, q, site="stackoverflow", tagged=""):
    return {"q": q, "site": site, "tagged": tagged, "csrf_token": token}


def save_search(browser, q="python", site="stackoverflow", tagged="", token=None):
    """Save a search on a webtest app; returns its results path (`/queries/7`)."""
    token = token or form_token(browser.get("/queries/new").text)
    answer = browser.post("/queries", form(token, q, site, tagged), status=303)
    return urllib.parse.urlsplit(answer.location).path


def search_id(results_path):
    return int(results_path.rstrip("/").rsplit("/", 1)[1])


def create_search(testapp, csrf, q="python", site="stackoverflow", tagged=""):
    """The id of the search saved through the form."""
    return search_id(save_search(testapp, q, site, tagged, token=csrf))


def save_search_through(base_url, q, site="stackoverflow", tagged="", timeout=20):
    """Save a search on a real server, following the 303. (results URL, results page HTML)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    token = form_token(opener.open(base_url + "/queries/new", timeout=timeout).read().decode())
    data = urllib.parse.urlencode(form(token, q, site, tagged)).encode()
    with opener.open(base_url + "/queries", data=data, timeout=timeout) as answer:
        return answer.geturl(), answer.read().decode()

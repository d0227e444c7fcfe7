"""Saved searches and results pages, against the API emulator over real HTTP."""

import pytest

from stackq.testing.emulator_data import (
    HOSTILE_DISPLAY_NAME,
    HOSTILE_QUESTION_IDS,
    HOSTILE_TITLES,
)
from tests.support.reading import shown_ids
from tests.support.searches import create_search


def expected_ids(upstream, sort, order, q="python", site="stackoverflow"):
    return [item["question_id"] for item in upstream.search(site, q=q, sort=sort, order=order)]


@pytest.fixture
def search_id(testapp, csrf):
    return create_search(testapp, csrf)


def test_post_stores_the_search_and_redirects_to_its_results(testapp, csrf, upstream):
    answer = testapp.post("/queries", {"q": "  asyncio  ", "site": "stackoverflow",
                                       "csrf_token": csrf})
    assert answer.status_int == 303
    assert answer.location.startswith("http://example.com/queries/")
    home = testapp.get("/")
    row = home.html.select_one("table.searches tbody tr")
    assert row.find("a").text == "asyncio"
    assert f"0 / {len(upstream.search('stackoverflow', q='asyncio'))}" in row.text


def test_the_same_search_saved_twice_is_reused(testapp, csrf):
    first = create_search(testapp, csrf, q="python sql")
    assert create_search(testapp, csrf, q=" python   sql ") == first
    assert create_search(testapp, csrf, q="python sql", tagged="") == first
    assert create_search(testapp, csrf, q="python sql", tagged="django") != first


def test_tags_are_one_search_whatever_their_spelling(testapp, csrf):
    first = create_search(testapp, csrf, q="", tagged="Python; asyncio")
    assert create_search(testapp, csrf, q="", tagged="asyncio,python") == first


def test_post_without_csrf_token_is_refused(testapp):
    answer = testapp.post("/queries", {"q": "python", "site": "stackoverflow"}, status=403)
    assert "security token" in answer.text
    assert testapp.get("/").html.select("table.searches tbody tr") == []


def test_post_with_a_wrong_csrf_token_is_refused(testapp, csrf):
    testapp.post("/queries", {"q": "python", "csrf_token": csrf + "x"}, status=403)


def test_json_post_may_send_the_token_in_a_header(testapp, csrf):
    answer = testapp.post("/queries", {"q": "python"}, headers={"X-CSRF-Token": csrf})
    assert answer.status_int == 303


@pytest.mark.parametrize("form, message", [
    ({"q": "python", "site": "nosuchsite"}, "unknown site"),
    ({"q": "   ", "site": "stackoverflow"}, "enter words"),
    ({"q": "x" * 501, "site": "stackoverflow"}, "too long"),
])
def test_a_bad_search_is_400_with_the_form_and_a_message(testapp, csrf, form, message):
    answer = testapp.post("/queries", {**form, "csrf_token": csrf}, status=400)
    assert message in answer.html.select_one(".error").text
    assert answer.html.select_one("input[name=csrf_token]")["value"] == csrf


def test_a_site_may_be_named_by_its_domain(testapp, csrf):
    search = create_search(testapp, csrf, q="prime", site="math.stackexchange.com")
    page = testapp.get(f"/queries/{search}")
    assert "on Mathematics" in page.html.find("h1").text


@pytest.mark.parametrize("per_page", [25, 50, 100])
def test_each_page_size_shows_that_many_rows(testapp, search_id, upstream, per_page):
    page = testapp.get(f"/queries/{search_id}", {"per_page": per_page})
    assert shown_ids(page) == expected_ids(upstream, "activity", "desc")[:per_page]


def test_the_default_is_25_rows_by_activity_newest_first(testapp, search_id, upstream):
    page = testapp.get(f"/queries/{search_id}")
    assert shown_ids(page) == expected_ids(upstream, "activity", "desc")[:25]


@pytest.mark.parametrize("sort", ["activity", "creation", "votes"])
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_upstream_sorts_follow_the_apis_own_order(testapp, search_id, upstream, sort, order):
    page = testapp.get(f"/queries/{search_id}", {"sort": sort, "order": order, "page": 2,
                                                 "per_page": 50})
    assert shown_ids(page) == expected_ids(upstream, sort, order)[50:100]
    assert "true page 2" in page.html.select_one(".summary").text


def test_page_four_opened_first_is_upstream_76_to_100(testapp, search_id, upstream):
    page = testapp.get(f"/queries/{search_id}", {"page": 4, "per_page": 25})
    assert shown_ids(page) == expected_ids(upstream, "activity", "desc")[75:100]
    numbers = [row.td.text for row in page.html.select("table.results tbody tr")]
    assert numbers[0] == "76" and numbers[-1] == "100"


def test_a_page_past_the_first_hundred_is_fetched_on_demand(testapp, search_id, upstream):
    before = upstream.stats()["by_method"].get("search/advanced", 0)
    page = testapp.get(f"/queries/{search_id}", {"page": 5, "per_page": 50, "sort": "votes"})
    assert shown_ids(page) == expected_ids(upstream, "votes", "desc")[200:250]
    # Upstream page 3 of 100 rows, and nothing else.
    assert upstream.stats()["by_method"]["search/advanced"] == before + 1


def test_a_stored_page_is_served_without_calling_the_api(testapp, search_id, upstream):
    testapp.get(f"/queries/{search_id}", {"per_page": 100})
    calls = upstream.stats()["requests"]
    for page, per_page in [(1, 25), (2, 25), (4, 25), (1, 50), (2, 50), (1, 100)]:
        testapp.get(f"/queries/{search_id}", {"page": page, "per_page": per_page})
    assert upstream.stats()["requests"] == calls


@pytest.mark.parametrize("sort, key, reverse_for_desc", [
    ("title", lambda q: q["title"], True),
    ("answers", lambda q: q["answer_count"], True),
    ("views", lambda q: q["view_count"], True),
])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_stored_sorts_order_what_is_stored(testapp, search_id, upstream, sort, key, order,
                                            reverse_for_desc):
    testapp.get(f"/queries/{search_id}", {"per_page": 100})
    testapp.get(f"/queries/{search_id}", {"per_page": 100, "sort": "votes"})
    stored = {q["question_id"]: q for q in upstream.search("stackoverflow", q="python")[:100]}
    stored.update({q["question_id"]: q for q in
                   upstream.search("stackoverflow", q="python", sort="votes")[:100]})
    page = testapp.get(f"/queries/{search_id}", {"sort": sort, "order": order, "per_page": 50})
    shown = [stored[i] for i in shown_ids(page)]
    assert len(shown) == 50
    values = [key(q) for q in shown]
    assert values == sorted(values, reverse=order == "desc")
    everything = sorted(map(key, stored.values()), reverse=order == "desc")
    assert values == everything[:50]
    assert "among the" in page.html.select_one(".summary").text
    assert f"{len(stored)} stored" in page.html.select_one(".summary").text


def test_a_page_fetched_on_demand_counts_what_it_stored(testapp, search_id, upstream):
    first = testapp.get(f"/queries/{search_id}", {"per_page": 25})
    assert first.html.select_one(".summary").text.split()[0] == "100"
    testapp.get(f"/queries/{search_id}", {"per_page": 25, "sort": "votes"})
    stored = {q["question_id"] for sort in ("activity", "votes")
              for q in upstream.search("stackoverflow", q="python", sort=sort)[:100]}
    again = testapp.get(f"/queries/{search_id}", {"per_page": 25})
    assert again.html.select_one(".summary").text.split()[0] == f"{len(stored):,}"


def test_sort_links_keep_per_page_and_pager_keeps_sort(testapp, search_id):
    page = testapp.get(f"/queries/{search_id}", {"per_page": 50, "sort": "votes"})
    title_link = page.html.select_one("th a[href*='sort=title']")["href"]
    assert "per_page=50" in title_link and "page=1" in title_link
    next_link = page.html.select_one("a[rel=next]")["href"]
    assert "sort=votes" in next_link and "per_page=50" in next_link and "page=2" in next_link


def test_clicking_the_active_sort_column_flips_the_order(testapp, search_id):
    page = testapp.get(f"/queries/{search_id}", {"sort": "votes", "order": "desc"})
    assert "order=asc" in page.html.select_one("th a[href*='sort=votes']")["href"]


@pytest.mark.parametrize("query, names", [
    ({"page": "abc"}, "page"),
    ({"page": "0"}, "page"),
    ({"page": "-1"}, "page"),
    ({"page": "1.5"}, "page"),
    ({"page": ""}, "page"),
    ({"page": "1e3"}, "page"),
    ({"page": "١"}, "page"),
    ({"page": "1000000000"}, "page"),
    ({"per_page": "37"}, "per_page"),
    ({"per_page": "0"}, "per_page"),
    ({"per_page": "all"}, "per_page"),
    ({"per_page": "-25"}, "per_page"),
    ({"sort": "DROP"}, "sort"),
    ({"sort": "title; DROP TABLE questions"}, "sort"),
    ({"sort": "score"}, "sort"),
    ({"sort": ""}, "sort"),
    ({"order": "sideways"}, "order"),
    ({"order": "ASC"}, "order"),
    ({"order": ""}, "order"),
    ([("page", "1"), ("page", "2")], "page"),
    ([("sort", "votes"), ("sort", "title")], "sort"),
])
def test_bad_parameters_are_400_naming_what_was_wrong(testapp, search_id, query, names):
    answer = testapp.get(f"/queries/{search_id}", query, status=400)
    message = answer.html.select_one(".error").text
    assert message.startswith(names)
    assert "Traceback" not in answer.text


def test_a_page_past_the_last_is_404(testapp, csrf, upstream):
    search = create_search(testapp, csrf, q="asyncio")
    last = -(-len(upstream.search("stackoverflow", q="asyncio")) // 100)
    testapp.get(f"/queries/{search}", {"per_page": 100, "page": last})
    answer = testapp.get(f"/queries/{search}", {"per_page": 100, "page": last + 1}, status=404)
    assert f"last page ({last})" in answer.text


def test_pages_past_2500_need_an_api_key(testapp, csrf, upstream):
    search = create_search(testapp, csrf, q="", tagged="python;javascript;sql;linux")
    if len(upstream.search("stackoverflow", tagged="python;javascript;sql;linux")) <= 2500:
        pytest.fail("the emulator should have more than 2,500 results for these tags")
    answer = testapp.get(f"/queries/{search}", {"per_page": 100, "page": 26}, status=400)
    assert "API key" in answer.text


@pytest.mark.parametrize("path", ["/queries/999999", "/queries/abc", "/queries/-1",
                                  "/queries/1/extra", "/nowhere"])
def test_unknown_ids_and_paths_are_404(testapp, path):
    answer = testapp.get(path, status=404)
    assert answer.html.select_one(".error").text


def test_a_search_that_does_not_exist_is_404_even_with_bad_parameters(testapp):
    answer = testapp.get("/queries/999999", {"page": "abc", "sort": "nope"}, status=404)
    assert "no saved search 999999" in answer.html.select_one(".error").text


def test_hostile_titles_are_shown_as_written_and_escaped_once(testapp, search_id):
    page = testapp.get(f"/queries/{search_id}", {"per_page": 100})
    links = {int(row["data-question-id"]): row.select_one("a.question")
             for row in page.html.select("table.results tbody tr")}
    for kind, question_id in HOSTILE_QUESTION_IDS.items():
        assert links[question_id].text == HOSTILE_TITLES[kind]
    # The raw HTML holds each dangerous title escaped exactly once.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert "&amp;lt;" not in page.text and "&amp;quot;" not in page.text
    assert "&amp;#39;" not in page.text


def test_deleted_and_hostile_owners_render(testapp, search_id):
    page = testapp.get(f"/queries/{search_id}", {"per_page": 100})
    rows = {int(row["data-question-id"]): row for row in page.html.select("table.results tbody tr")}
    deleted = rows[HOSTILE_QUESTION_IDS["deleted_owner"]].find_all("td")[-1]
    assert deleted.text.strip() == "user12345" and deleted.find("a") is None
    named = rows[HOSTILE_QUESTION_IDS["owner_name"]].find_all("td")[-1]
    assert named.text.strip() == HOSTILE_DISPLAY_NAME
    assert "<b>root</b>" not in page.text


def test_each_row_links_to_the_stored_copy_and_the_question_on_its_site(testapp, search_id):
    page = testapp.get(f"/queries/{search_id}")
    for row in page.html.select("table.results tbody tr"):
        qid = row["data-question-id"]
        assert row.select_one("a.question")["href"] == f"/questions/stackoverflow/{qid}"
        href = row.select_one("a.original")["href"]
        assert href.startswith(f"https://stackoverflow.com/questions/{qid}/")


def test_an_unexpected_error_is_a_500_page_and_the_traceback_goes_to_the_log(
        testapp, search_id, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("stackq.searches.views.results_page", broken)
    answer = testapp.get(f"/queries/{search_id}", status=500)
    assert "Something went wrong" in answer.text
    assert "Traceback" not in answer.text and "disk on fire" not in answer.text
    assert any("disk on fire" in (r.exc_text or "") for r in caplog.records)

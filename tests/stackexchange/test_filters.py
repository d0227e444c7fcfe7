"""Filters that keep back-offs in sight: made once through the access layer, kept in Redis,
preset by a setting, and counted another way when the API will not make them."""

from types import SimpleNamespace

import pytest

from stackq.infra.registry import SETTINGS
from stackq.infra.settings import SettingsError, load_settings
from stackq.stackexchange import api_access_from_settings
from stackq.stackexchange.filters import TOTAL, NoFilter
from stackq.stackexchange.totals import COUNT_PAGE_SIZE, count_by_pages, count_results
from tests.support.access import accesses_on_one_namespace
from tests.support.harvest import AskedPages

SO = "stackoverflow"


@pytest.fixture
def make_access(redis_url, mirrors):
    with accesses_on_one_namespace(redis_url, mirrors) as make:
        yield make


@pytest.fixture
def asked(mirrors):
    spy = AskedPages(*mirrors)
    yield spy
    spy.remove()


def creates(mirrors):
    return sum(emu.stats()["by_method"].get("filters/create", 0) for emu in mirrors)


def test_the_total_filter_is_made_once_for_every_process_and_shows_the_back_off(
        mirrors, make_access, asked):
    emu = mirrors[0]
    for mirror in mirrors:
        mirror.configure(backoff={"search/advanced": 1, "filters/create": 1})
    first = make_access()
    answer = first.fetch("search/advanced", SO, q="asyncio", filter=TOTAL)
    assert answer.total == len(emu.search(SO, q="asyncio"))
    assert answer.backoff == 1 and answer.quota_remaining is not None
    made = asked.requests[-1][1]
    assert made.startswith("!") and creates(mirrors) == 1
    # Another process on the Redis reuses it, on either mirror.
    second = make_access()
    for n in range(3):
        answer = second.fetch("search/advanced", SO, q="asyncio", filter=TOTAL, n=n)
        assert answer.total == len(emu.search(SO, q="asyncio")) and answer.backoff == 1
    assert creates(mirrors) == 1 and {f for _, f in asked.requests} == {made}
    assert all(m.stats()["by_method"]["search/advanced"] >= 1 for m in mirrors)
    assert [m.stats()["violations"] for m in mirrors] == [0, 0]
    # Redis lost: the next process makes it again, the same string.
    for kept in ("filters", "answers"):
        make_access.redis.delete(*make_access.redis.scan_iter(f"*:{kept}:*"))
    make_access().fetch("search/advanced", SO, q="python", filter=TOTAL)
    assert creates(mirrors) == 2 and asked.requests[-1][1] == made


def test_filters_that_hide_back_offs_are_refused(mirrors, make_access):
    access = make_access()
    for hiding in ("total", "none"):
        with pytest.raises(ValueError, match="hides the API's back-offs"):
            access.fetch("search/advanced", SO, q="asyncio", filter=hiding)
    assert sum(emu.stats()["requests"] for emu in mirrors) == 0


def test_a_preset_filter_spares_the_call(mirrors, make_access):
    emu = mirrors[0]
    made = make_access(urls=[emu.base_url]).fetch("filters/create", **TOTAL.params())
    emu.reset()
    preset = make_access(filters={"total": made.items[0]["filter"]})
    assert count_results(preset, "search/advanced", SO, q="asyncio") == len(
        emu.search(SO, q="asyncio"))
    assert creates(mirrors) == 0


def test_the_setting_presets_filters_by_name(app_settings):
    def access(value):
        raw = load_settings({**app_settings, "stackq.api.filters": value}, environ={})
        return api_access_from_settings(raw[SETTINGS], redis=None)

    assert access("total=!abc=").filters.presets == {"total": "!abc="}
    assert access("").filters.presets == {}
    for wrong in ("bodies=!abc", "total=total", "total=none"):
        with pytest.raises(SettingsError, match="stackq.api.filters"):
            access(wrong)
    with pytest.raises(SettingsError, match="name=value pairs"):
        access("!abc")


def test_when_the_api_will_not_make_the_filter_totals_are_counted_from_pages(
        mirrors, make_access, asked):
    emu = mirrors[0]
    emu.configure(backoff={"search/advanced": 1})
    access = make_access(urls=[emu.base_url])
    emu.set_fault("no_method", count=1)  # the /filters/create call
    assert count_results(access, "search/advanced", SO, q="asyncio") == len(
        emu.search(SO, q="asyncio")) == 300
    # Never a filter that hides a back-off: pages 1, 2, 4 (empty) and 3 with the default one.
    assert asked.requests == [("1", None), ("2", None), ("4", None), ("3", None)]
    assert emu.stats()["violations"] == 0
    with pytest.raises(NoFilter):  # the refusal is remembered a while: no call spent on it
        access.fetch("search/advanced", SO, q="asyncio", filter=TOTAL)
    assert creates(mirrors) == 1


class Pages:
    """A result set of `count` items as the API pages it (the default filter's answer)."""

    def __init__(self, count, has_key=True):
        self.count, self.has_key, self.asked = count, has_key, []

    def fetch(self, method, site=None, *, page, pagesize, **params):
        self.asked.append(page)
        if not self.has_key and page > 25:
            raise AssertionError("a keyless page past 25")
        start = (page - 1) * pagesize
        items = [{}] * max(0, min(pagesize, self.count - start))
        return SimpleNamespace(items=items, has_more=start + pagesize < self.count)


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 250, 1000, 1001, 12345, 123456])
def test_counting_by_pages_is_exact_in_a_few_calls(count):
    pages = Pages(count)
    assert count_by_pages(pages, "search/advanced", SO, q="x") == count
    assert len(pages.asked) <= 2 * max(1, (count // COUNT_PAGE_SIZE + 1).bit_length()) + 1


@pytest.mark.parametrize("count, counted", [(2400, 2400), (2500, 2500), (2501, 2500),
                                            (90000, 2500)])
def test_without_a_key_pages_are_counted_up_to_the_last_the_api_serves(count, counted):
    pages = Pages(count, has_key=False)
    assert count_by_pages(pages, "search/advanced", SO, q="x") == counted

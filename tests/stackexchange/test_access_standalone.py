"""ApiAccess on its own: without Redis, from a script's ini file, its settings, /status."""

import time

import pytest

from stackq.infra.redis_client import redis_from_settings
from stackq.infra.registry import API, SETTINGS
from stackq.infra.settings import Rate, SettingsError, load_settings
from stackq.stackexchange import (
    ApiAccess,
    configure,
    default_access,
    fetch,
    standalone,
)
from tests.support.access import run_threads
from tests.support.serverproc import free_port


def test_status_page_shows_each_mirror_and_is_never_stored(testapp, upstream):
    upstream.configure(backoff={"info": 30})
    api = testapp.app.registry[API]
    api.fetch("info", site="stackoverflow")
    api.fetch("info", site="stackoverflow")  # from the cache
    page = testapp.get("/status")
    assert page.headers["Cache-Control"] == "no-store"
    row = page.html.select_one("table.mirrors tbody tr")
    assert row.select_one(".url").text == upstream.base_url
    assert row.select_one(".rate").text.strip().startswith("1")
    assert "info for" in row.select_one(".backoff").text
    assert row.select_one(".ban").text.strip() == "none"
    assert row.select_one(".quota").text.startswith("299 of 300")
    assert page.html.select_one(".hit-rate").text == "50 %"


def test_the_new_settings_are_typed_and_checked():
    settings = load_settings({}, here="/x", environ={"STACKQ_API_MAX_WAIT": "2.5"})
    typed = settings[SETTINGS]
    assert (typed.api_max_wait, typed.api_expected_processes) == (2.5, 4)
    with pytest.raises(SettingsError, match="stackq.api.expected_processes"):
        load_settings({"stackq.api.expected_processes": "0"}, here="/x", environ={})


def test_without_redis_a_process_keeps_to_its_share_and_says_so(testapp, upstream, caplog):
    settings = load_settings({"redis.url": f"redis://127.0.0.1:{free_port()}/0"}, here="/x",
                             environ={})
    nobody = redis_from_settings(settings[SETTINGS])  # the app's own kind of client
    access = ApiAccess([upstream.base_url], timeout=2, redis=nobody, max_rate=Rate(8, 1),
                       expected_processes=4)
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="stackq.stackexchange"):
        for n in range(3):
            access.fetch("info", site="stackoverflow", n=n)
    # One window's pause (what Redis allowed just before is unknown), then 2 calls a second.
    assert time.monotonic() - started >= 2.0
    assert "Redis unreachable" in caplog.text and "at most 2 calls per 1 s" in caplog.text
    status = access.status()
    assert not status.shared and status.mirrors[0].calls_last_second >= 1
    testapp.app.registry[API] = access
    page = testapp.get("/status")
    assert "Redis is unreachable" in page.html.select_one(".redis-down").text
    assert "2 calls per 1 s per mirror in this process" in page.html.select_one("caption").text


def test_a_script_takes_its_settings_from_an_ini_file(mirrors, redis_url, tmp_path, monkeypatch):
    monkeypatch.setattr(standalone, "_access", None)
    monkeypatch.setattr(standalone, "_configured", None)
    emu = mirrors[0]
    ini = tmp_path / "script.ini"
    ini.write_text(f"[app:main]\nuse = egg:stackq\nredis.url = {redis_url}\n"
                   f"stackq.api.urls = {emu.base_url}\nstackq.api.max_wait = 3\n"
                   "sqlalchemy.url = sqlite:///%(here)s/unused.sqlite\n")
    access = configure(str(ini), **{"stackq.api.cache_ttl": "0"})
    assert fetch("info", site="stackoverflow").mirror == emu.base_url
    assert default_access() is access and access.max_wait == 3
    assert access.answers.ttl == 0
    access.reset()


@pytest.mark.parametrize("cap", [1, 2])
def test_without_redis_a_process_keeps_the_in_flight_rule(upstream, cap):
    upstream.configure(latency=0.15)
    settings = load_settings({"redis.url": f"redis://127.0.0.1:{free_port()}/0"}, here="/x",
                             environ={})
    nobody = redis_from_settings(settings[SETTINGS])
    access = ApiAccess([upstream.base_url], timeout=2, redis=nobody, max_rate=Rate(50, 1),
                       expected_processes=1, max_in_flight=cap)
    results = run_threads(6, lambda i: access.fetch("info", site="stackoverflow", n=i).mirror)
    assert results == [upstream.base_url] * 6
    assert not access.status().shared
    assert upstream.stats()["peak_in_flight"] == {"info": cap}


def test_max_in_flight_is_a_setting():
    typed = load_settings({}, here="/x", environ={"STACKQ_API_MAX_IN_FLIGHT": "3"})
    assert typed[SETTINGS].api_max_in_flight == 3
    assert load_settings({}, here="/x", environ={})[SETTINGS].api_max_in_flight == 1
    with pytest.raises(SettingsError, match="stackq.api.max_in_flight"):
        load_settings({"stackq.api.max_in_flight": "0"}, here="/x", environ={})

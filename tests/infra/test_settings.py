"""Settings: ini values, STACKQ_* overrides, typed values, one clear line for a bad one."""

import subprocess
import sys
from pathlib import Path

import pytest

from stackq.infra.registry import SETTINGS
from stackq.infra.settings import DECLARED, DEFAULTS, Rate, SettingsError, env_name, load_settings


def typed(settings=None, environ=None):
    return load_settings(dict(settings or {}), here="/srv/stackq", environ=environ or {})[SETTINGS]


@pytest.mark.parametrize("key, name", [
    ("stackq.api.urls", "STACKQ_API_URLS"),
    ("sqlalchemy.url", "STACKQ_SQLALCHEMY_URL"),
    ("redis.url", "STACKQ_REDIS_URL"),
    ("stackq.ws.allowed_origins", "STACKQ_WS_ALLOWED_ORIGINS"),
])
def test_env_name_follows_the_contract(key, name):
    assert env_name(key) == name


def test_defaults_are_the_contracts():
    s = typed()
    assert s.sqlalchemy_url == "sqlite:////srv/stackq/var/stackq.sqlite"
    assert s.redis_url == ""
    assert s.api_urls == ("https://api.stackexchange.com/2.3",)
    assert s.api_max_rate == Rate(25.0, 1.0)
    assert (s.api_timeout, s.api_cache_ttl, s.cache_ttl, s.refresh_interval) == (10, 600, 60, 600)
    assert s.page_sizes == (25, 50, 100)
    assert s.default_sort == "activity"
    assert s.ws_allowed_origins == ()


def test_environment_beats_the_ini():
    s = typed(
        {"stackq.api.urls": "http://ini/2.3", "stackq.cache.ttl": "60"},
        {"STACKQ_API_URLS": "http://a/2.3  http://b/2.3/", "STACKQ_CACHE_TTL": "0",
         "STACKQ_API_KEY": "secret"},
    )
    assert s.api_urls == ("http://a/2.3", "http://b/2.3")
    assert s.cache_ttl == 0
    assert s.api_key == "secret"


def test_an_ini_only_setting_can_be_overridden_too():
    raw = load_settings({"pyramid.reload_templates": "true"}, here="/x",
                        environ={"STACKQ_PYRAMID_RELOAD_TEMPLATES": "false"})
    assert raw["pyramid.reload_templates"] == "false"


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u@h/db"])
def test_postgresql_urls_run_on_psycopg2(url):
    assert typed({"sqlalchemy.url": url}).sqlalchemy_url == "postgresql+psycopg2://u@h/db"


@pytest.mark.parametrize("text, rate", [
    ("25", Rate(25, 1)), ("2.5", Rate(2.5, 1)), ("30/minute", Rate(30, 60)),
    ("10/second", Rate(10, 1)), ("100 / hour", Rate(100, 3600)),
])
def test_max_rate_forms(text, rate):
    assert typed({"stackq.api.max_rate": text}).api_max_rate == rate


def test_rate_per_second():
    assert Rate(30, 60).per_second == 0.5


@pytest.mark.parametrize("key, value", [
    ("stackq.api.max_rate", "fast"),
    ("stackq.api.max_rate", "0"),
    ("stackq.api.max_rate", "30/fortnight"),
    ("stackq.api.timeout", "-1"),
    ("stackq.cache.ttl", "sixty"),
    ("stackq.refresh.interval", "0"),
    ("stackq.page_sizes", "25 fifty"),
    ("stackq.page_sizes", "0 500"),
    ("stackq.default_sort", "DROP"),
    ("stackq.api.urls", "ftp://example.com"),
    ("stackq.api.urls", " "),
    ("stackq.allowed_hosts", " "),
    ("sqlalchemy.url", ""),
])
def test_a_bad_value_names_its_key_and_value(key, value):
    with pytest.raises(SettingsError) as raised:
        typed({key: value})
    assert str(raised.value).startswith(f"setting {key} = {value!r}:")


def test_a_bad_setting_stops_the_app_with_one_line(tmp_path):
    ini = tmp_path / "bad.ini"
    ini.write_text("[app:main]\nuse = egg:stackq\nstackq.api.max_rate = lots\n")
    result = subprocess.run(
        [sys.executable, "-c", f"from pyramid.paster import get_app; get_app({str(ini)!r})"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == "stackq: setting stackq.api.max_rate = 'lots': " \
        "a rate like 25, 2.5, 25/second or 30/minute"
    assert "Traceback" not in result.stderr


SETTINGS_DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def documented_settings_rows():
    """(setting, environment, default) of each row of docs/settings.md's table of settings."""
    text = SETTINGS_DOC.read_text(encoding="utf-8")
    section = text.split("## Every setting", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:4] for line in section.splitlines() if line.startswith("| `")]
    return [tuple(cell.strip().strip("`") for cell in row) for row in rows]


def test_the_settings_doc_lists_exactly_the_declared_settings_and_their_env_names():
    assert [(key, env) for key, env, _ in documented_settings_rows()] == [
        (s.key, s.env) for s in DECLARED]


def test_the_settings_doc_shows_each_declared_default():
    defaults = {key: default for key, _, default in documented_settings_rows()}
    for setting in DECLARED:
        if setting.default:  # None and "" are described in words ("embedded Redis", "empty")
            assert defaults[setting.key] == setting.default, setting.key


def test_every_declared_setting_is_a_settings_attribute_with_its_default_parsed():
    s = typed()
    for setting in DECLARED:
        if setting.default is not None:
            assert getattr(s, setting.attr) == setting.parse(setting.key, setting.default)
    assert set(DEFAULTS) == {setting.key for setting in DECLARED}

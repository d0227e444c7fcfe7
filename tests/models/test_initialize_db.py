"""initialize_db: schema at head, site list loaded, safe to run again."""

import logging
import os
import sqlite3
import subprocess
import sys

from sqlalchemy import select

from stackq.models import Site
from stackq.models.initialize_db import load_sites

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INITIALIZE_DB = os.path.join(os.path.dirname(sys.executable), "initialize_db")


def initialize(tmp_path, api_url):
    env = {**os.environ, "STACKQ_SQLALCHEMY_URL": f"sqlite:///{tmp_path}/init.sqlite",
           "STACKQ_API_URLS": api_url}
    return subprocess.run([INITIALIZE_DB, os.path.join(ROOT, "development.ini")],
                          capture_output=True, text=True, env=env, timeout=60)


def sites(tmp_path):
    with sqlite3.connect(tmp_path / "init.sqlite") as db:
        return dict(db.execute("select api_site_parameter, name from sites"))


def test_loads_the_sites_the_api_lists_and_is_idempotent(tmp_path, upstream):
    first = initialize(tmp_path, upstream.base_url)
    assert first.returncode == 0, first.stderr
    loaded = sites(tmp_path)
    assert loaded["stackoverflow"] == "Stack Overflow"
    # Entity-encoded upstream ("Unix &amp; Linux") is stored decoded.
    assert loaded["unix"] == "Unix & Linux"
    second = initialize(tmp_path, upstream.base_url)
    assert second.returncode == 0, second.stderr
    assert sites(tmp_path) == loaded
    with sqlite3.connect(tmp_path / "init.sqlite") as db:
        assert db.execute("select count(*) from alembic_version").fetchone() == (1,)


def test_falls_back_to_the_bundled_site_list_without_the_api(tmp_path):
    result = initialize(tmp_path, "http://127.0.0.1:9/2.3")
    assert result.returncode == 0, result.stderr
    assert "using the bundled list" in result.stderr
    loaded = sites(tmp_path)
    assert len(loaded) >= 25
    assert loaded["math"] == "Mathematics"


def test_a_site_item_naming_no_usable_site_is_skipped(dbsession, caplog):
    """A /sites item whose address is no http(s) one (it is every question's link there), whose
    parameter is no site parameter, or whose fields are no text: skipped and logged, the rest
    stored."""
    good = {"api_site_parameter": "ru.stackoverflow", "name": "Stack Overflow на русском",
            "site_url": "https://ru.stackoverflow.com/"}
    items = [good, {**good, "api_site_parameter": "evil", "site_url": "javascript:alert(1)"},
             {**good, "api_site_parameter": "Bad Site"}, {**good, "api_site_parameter": "x" * 101},
             {**good, "api_site_parameter": "noname", "name": None}, "junk",
             {"api_site_parameter": "nourl", "name": "No address"}]
    with caplog.at_level(logging.WARNING, logger="stackq.models.initialize_db"):
        assert load_sites(dbsession, items) == 1
    stored = dbsession.scalar(select(Site).where(Site.api_site_parameter == "ru.stackoverflow"))
    assert stored.site_url == "https://ru.stackoverflow.com"
    assert dbsession.scalar(select(Site).where(Site.api_site_parameter == "evil")) is None
    assert caplog.text.count("skipping a site item") == 6

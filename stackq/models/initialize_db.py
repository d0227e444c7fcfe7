"""`initialize_db development.ini`: upgrade the schema to head and load the site list."""

import argparse
import html
import json
import logging
import re
import sys
from importlib import resources

import alembic.command
import alembic.config
from pyramid.paster import bootstrap, setup_logging

from ..stackexchange import StackExchangeError
from . import Site
from .upsert import fitted, stored_link, upsert

log = logging.getLogger(__name__)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config_uri", help="the ini file, e.g. development.ini")
    return parser.parse_args(argv[1:])


def upgrade_schema(config_uri, settings):
    """`alembic upgrade head` on the app's database: a no-op when already there."""
    config = alembic.config.Config(config_uri)
    config.attributes["settings"] = settings
    config.attributes["skip_logging"] = True
    alembic.command.upgrade(config, "head")


def fetch_sites(api):
    """Every site the API lists, or None when it cannot be reached."""
    sites, page = [], 1
    try:
        while True:
            answer = api.fetch("sites", page=page, pagesize=500)
            sites.extend(answer.items)
            if not answer.has_more or page >= 10:
                return sites
            page += 1
    except StackExchangeError as error:
        log.warning("could not load the site list from the API (%s); using the bundled list",
                    error)
        return None


def bundled_sites():
    text = resources.files("stackq.models").joinpath("sites.json").read_text(encoding="utf-8")
    return json.loads(text)


# What an API site parameter is made of (`stackoverflow`, `ru.stackoverflow`, `meta.serverfault`).
SITE_PARAMETER = re.compile(r"[a-z0-9][a-z0-9.-]{0,99}")


def site_row(item):
    """The sites row of a /sites item, or None for one that names no site stackq can link
    to (no parameter, a site address that is no http(s) one, fields that are no text)."""
    if not isinstance(item, dict):
        return None
    parameter, name, url = (item.get(key) for key in ("api_site_parameter", "name", "site_url"))
    url = stored_link(Site.site_url, url.rstrip("/")) if isinstance(url, str) else None
    if not (isinstance(parameter, str) and SITE_PARAMETER.fullmatch(parameter)
            and isinstance(name, str) and url):
        return None
    return {"api_site_parameter": parameter,
            "name": fitted(Site.name, html.unescape(name)),
            "site_url": url}


def load_sites(dbsession, items):
    """Store the sites of `items` (/sites items); returns how many. An item naming no site
    stackq can use is skipped (logged)."""
    rows = {}
    for item in items:
        row = site_row(item)
        if row is None:
            log.warning("skipping a site item: %.200r", item)
        else:
            rows[row["api_site_parameter"]] = row
    if rows:
        upsert(dbsession, Site, list(rows.values()), ["api_site_parameter"])
    return len(rows)


def main(argv=sys.argv):
    args = parse_args(argv)
    setup_logging(args.config_uri)
    with bootstrap(args.config_uri) as env:
        settings = env["registry"].settings
        upgrade_schema(args.config_uri, settings)
        request = env["request"]
        with request.tm:
            items = fetch_sites(request.api) or bundled_sites()
            count = load_sites(request.dbsession, items)
    log.info("schema at head; %d sites known", count)

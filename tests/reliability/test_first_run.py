"""A new user's first minutes: installing and starting stackq the documented ways prints no
warning and no traceback, and hostile addresses get a 400 even inside the debug toolbar."""

import configparser
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from importlib.metadata import requires

import pytest

from tests.serverproc import running_server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEVELOPMENT_INI = os.path.join(ROOT, "development.ini")
BIN = os.path.dirname(sys.executable)
PKG_RESOURCES_WARNING = "pkg_resources is deprecated"


def requirement_name(line):
    return re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0].lower().replace("-", "_")


def test_what_development_ini_includes_is_installed_without_extras():
    # `pip install -e .` then `pserve development.ini` is the Pyramid way: it must start.
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(DEVELOPMENT_INI, encoding="utf-8")
    includes = parser["app:main"].get("pyramid.includes", "").split()
    installed = {requirement_name(r) for r in requires("stackq") if "extra ==" not in r}
    assert includes, "development.ini includes the debug toolbar"
    assert [name for name in includes if name.lower() not in installed] == []


@pytest.fixture
def first_run_env(tmp_path, redis_url, upstream):
    return {**os.environ, "STACKQ_SQLALCHEMY_URL": f"sqlite:///{tmp_path}/first.sqlite",
            "STACKQ_REDIS_URL": redis_url, "STACKQ_API_URLS": upstream.base_url}


def test_initialize_db_prints_no_deprecation_warning(tmp_path, first_run_env):
    done = subprocess.run([os.path.join(BIN, "initialize_db"), DEVELOPMENT_INI],
                          capture_output=True, text=True, env=first_run_env, cwd=tmp_path,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert PKG_RESOURCES_WARNING not in done.stderr + done.stdout


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_pserve_development_ini_refuses_undecodable_addresses_with_400(tmp_path, first_run_env):
    subprocess.run([os.path.join(BIN, "initialize_db"), DEVELOPMENT_INI], check=True,
                   capture_output=True, env=first_run_env, cwd=tmp_path, timeout=60)
    with running_server(DEVELOPMENT_INI, env=first_run_env, cwd=tmp_path) as server:
        home_status, home = status_of(server.url + "/")
        # The toolbar serves 127.0.0.1: these pass through its tween.
        answers = {path: status_of(server.url + path) for path in (
            "/queries/1?order=%ff", "/%ff%fe", "/?q=%00", "/queries/99999999999999999999999")}
        output = server.output()
    assert home_status == 200 and "pDebug" in home  # the toolbar is there
    assert {path: status for path, (status, _) in answers.items()} == {
        "/queries/1?order=%ff": 400, "/%ff%fe": 400, "/?q=%00": 400,
        "/queries/99999999999999999999999": 404}
    assert "is not valid UTF-8" in answers["/%ff%fe"][1]
    assert PKG_RESOURCES_WARNING not in output, output
    assert "Traceback" not in output, output

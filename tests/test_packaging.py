"""The README's run command, and an sdist, serve the app for real."""

import os
import re
import subprocess
import sys
import tarfile
import urllib.parse
import urllib.request

import pytest

from tests.support.searches import save_search_through
from tests.support.serverproc import running_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
VENV = os.path.dirname(BIN)


@pytest.fixture
def isolated_env(tmp_path, redis_url, upstream):
    return {
        "STACKQ_SQLALCHEMY_URL": f"sqlite:///{tmp_path}/run.sqlite",
        "STACKQ_REDIS_URL": redis_url,
        "STACKQ_API_URLS": upstream.base_url,
    }


def test_make_run_serves_the_app(isolated_env, upstream):
    """The README's one command, on the venv the tests run in."""
    def make_run(port):
        return ["make", "-s", "run", f"PORT={port}", f"VENV={VENV}"]

    with running_server(command=make_run, env=isolated_env, cwd=ROOT) as server:
        home = urllib.request.urlopen(server.url + "/").read().decode()
        assert "<h1>Saved searches</h1>" in home
        url, results = save_search_through(server.url, "asyncio")
    assert re.search(r"/queries/\d+$", url)
    expected = upstream.search("stackoverflow", q="asyncio")[0]["question_id"]
    assert f'data-question-id="{expected}"' in results


def test_an_sdist_installs_and_serves(tmp_path, isolated_env):
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation",
                    "--outdir", str(tmp_path / "dist"), ROOT],
                   check=True, capture_output=True, cwd=ROOT)
    [sdist] = (tmp_path / "dist").glob("stackq-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        archive.extractall(tmp_path / "src", filter="data")
    for needed in ("development.ini", "production.ini", "stackq/web/templates/layout.jinja2",
                   "stackq/web/static/stackq.css", "stackq/models/sites.json",
                   "stackq/alembic/script.py.mako"):
        assert any(name.endswith(needed) for name in names), needed
    assert any(re.search(r"stackq/alembic/versions/\w+\.py$", n) for n in names)
    # Install the sdist (not the repo) into its own directory, deps from this venv.
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(sdist)],
                   check=True, capture_output=True)
    [unpacked] = (tmp_path / "src").iterdir()
    ini = unpacked / "development.ini"
    env = {**isolated_env, "PYTHONPATH": str(target)}
    # Run from a directory without the repo in it, so only the installed copy is found.
    run_env = {**os.environ, **env}
    subprocess.run([sys.executable, "-c", "from stackq.models.initialize_db import main; "
                    f"main(['initialize_db', {str(ini)!r}])"],
                   check=True, capture_output=True, env=run_env, cwd=tmp_path)

    def pserve(port):
        return [sys.executable, "-c", "import sys; from pyramid.scripts.pserve import main; "
                "sys.exit(main())", str(ini), f"http_port={port}"]

    with running_server(command=pserve, env=env, cwd=tmp_path) as server:
        page = urllib.request.urlopen(server.url + "/queries/new").read().decode()
        css = urllib.request.urlopen(server.url + "/static/stackq.css").read().decode()
        which = subprocess.run([sys.executable, "-c", "import stackq; print(stackq.__file__)"],
                               capture_output=True, text=True, env=run_env, cwd=tmp_path)
    assert 'name="csrf-token"' in page
    assert ".site-header" in css
    assert which.stdout.startswith(str(target))

"""Scripts build the app but start no background work, and exit without a traceback."""

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def embedded_env(tmp_path, api_url):
    """The environment of a new user's first run: no Redis URL, so the embedded Redis."""
    env = {k: v for k, v in os.environ.items() if k != "STACKQ_REDIS_URL"}
    env.update(STACKQ_SQLALCHEMY_URL=f"sqlite:///{tmp_path}/quiet.sqlite",
               STACKQ_API_URLS=api_url)
    return env


def ini_in(tmp_path):
    # The embedded Redis keeps its file beside the ini: one of this test's own.
    return shutil.copy(os.path.join(ROOT, "development.ini"), tmp_path / "development.ini")


def run(command, env, cwd):
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_bootstrap_starts_no_events_listener(tmp_path, upstream):
    ini = ini_in(tmp_path)
    env = embedded_env(tmp_path, upstream.base_url)
    assert run([os.path.join(BIN, "initialize_db"), str(ini)], env, tmp_path).returncode == 0
    script = ("import threading\nfrom pyramid.paster import bootstrap\n"
              f"env = bootstrap({str(ini)!r})\n"
              "print(sorted(t.name for t in threading.enumerate()))\n"
              "env['closer']()\n")
    result = run([sys.executable, "-c", script], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['MainThread']"


def test_initialize_db_on_the_embedded_redis_exits_0_without_a_traceback(tmp_path, upstream):
    ini = ini_in(tmp_path)
    result = run([os.path.join(BIN, "initialize_db"), str(ini)],
                 embedded_env(tmp_path, upstream.base_url), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "schema at head" in result.stderr
    assert "Traceback" not in result.stderr and "Exception in thread" not in result.stderr


def test_one_refresh_cycle_on_the_embedded_redis_exits_0_without_a_traceback(tmp_path,
                                                                             upstream):
    ini = ini_in(tmp_path)
    env = embedded_env(tmp_path, upstream.base_url)
    assert run([os.path.join(BIN, "initialize_db"), str(ini)], env, tmp_path).returncode == 0
    result = run([os.path.join(BIN, "refresh_queries"), str(ini), "--once", "--force"], env,
                 tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Exception in thread" not in result.stderr

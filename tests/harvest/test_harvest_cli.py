"""`stackq_harvest` as a real process: resume, crashes, Ctrl-C, exit codes and its output."""

import fcntl
import hashlib
import os
import pty
import re
import select as select_module
import struct
import subprocess
import termios
import time

import pytest

from tests.support.harvest import (
    AskedPages,
    harvest_command,
    harvest_env,
    ini_with,
    read_until,
    result_count,
    run_harvester,
    search_id,
    start_harvester,
    stored_order,
    stored_pages,
)

PAGE_LINE = re.compile(r"^page (\d+) stored \((\d+)/(\d+)\): (\d+) questions, \d+ new, "
                       r"\d+ updated; \d+ calls?, quota \d+ left$")


def seconds_to_utc_midnight():
    return 86400 - time.time() % 86400


@pytest.fixture
def asked(upstream):
    spy = AskedPages(upstream)
    yield spy
    spy.remove()


def upstream_ids(upstream, **search):
    return [item["question_id"] for item in upstream.search("stackoverflow", **search)]


def test_m3_then_m2_r_asks_pages_4_and_5_only(clean, asked):
    first = run_harvester(clean.ini, "-s", "python", "-m", 3)
    assert first.returncode == 0, first.stderr
    assert asked.pages == [1, 2, 3]
    asked.clear()

    again = run_harvester(clean.ini, "--search-query", "python", "--max-pages-count", 2,
                          "--continue-parsing")

    assert again.returncode == 0, again.stderr
    assert asked.pages == [4, 5]
    assert [line.split(" (")[0] for line in again.stdout.splitlines()[:2]] == [
        "page 4 stored", "page 5 stored"]
    assert "harvested 2 pages (4-5) of 'python' on stackoverflow" in again.stdout
    assert stored_pages(clean, search_id(clean, q="python")) == [1, 2, 3, 4, 5]


def test_kill_9_mid_harvest_then_r_stores_every_result_once_without_a_gap(clean, upstream,
                                                                          tmp_path):
    # Two calls a second: the harvest is still going when it is killed after page 3.
    # A short max_wait keeps the killed call's single-flight lease short.
    ini = ini_with(clean, tmp_path, **{"stackq.api.max_rate": "2", "stackq.api.max_wait": "1"})
    proc = start_harvester(ini, "-s", "python", "-m", 15)
    try:
        read_until(proc, "page 3 stored")
        proc.kill()
    finally:
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    query_id = search_id(clean, q="python")
    killed_at = stored_pages(clean, query_id)
    assert killed_at[:3] == [1, 2, 3] and killed_at == list(range(1, len(killed_at) + 1))

    resumed = run_harvester(clean.ini, "-s", "python", "-m", 15, "-r")

    assert resumed.returncode == 0, resumed.stderr
    assert f"({len(killed_at) + 1}-15)" in resumed.stdout
    assert "the last page of the results is stored" in resumed.stdout
    assert stored_pages(clean, query_id) == list(range(1, 16))
    order = stored_order(clean, query_id)
    everything = upstream_ids(upstream, q="python")
    assert [pos for pos, _ in order] == list(range(1, len(everything) + 1))
    assert [qid for _, qid in order] == everything
    assert result_count(clean, query_id) == len(everything)


def test_a_rerun_within_the_cache_ttl_makes_no_upstream_call(clean, upstream, asked):
    first = run_harvester(clean.ini, "-s", "python", "-m", 3)
    assert first.returncode == 0, first.stderr
    before = upstream.stats()["requests"]
    asked.clear()

    again = run_harvester(clean.ini, "-s", "python", "-m", 3)

    assert again.returncode == 0, again.stderr
    assert asked.requests == [] and upstream.stats()["requests"] == before
    assert "harvested 3 pages (1-3)" in again.stdout


def test_page_26_without_a_key_says_so_and_exits_1_with_25_pages_stored(clean, asked):
    run = run_harvester(clean.ini, "--tagged", "python;javascript;sql;linux", "-m", 30)

    assert run.returncode == 1
    assert "page 26 needs an API key" in run.stderr and "stackq.api.key" in run.stderr
    assert "this run stored pages 1-25" in run.stderr
    assert asked.pages == list(range(1, 26))
    assert stored_pages(clean, search_id(clean, tagged="javascript;linux;python;sql")) == list(
        range(1, 26))


def read_pty(master, proc, timeout=60):
    """Everything the process writes to its terminal, until it exits."""
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select_module.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    return b"".join(chunks).decode("utf-8", "replace")


def test_on_a_terminal_it_draws_a_progress_bar(clean):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    proc = subprocess.Popen(harvest_command(clean.ini, "-s", "python", "-m", 3), stdin=slave,
                            stdout=slave, stderr=slave, env=harvest_env())
    os.close(slave)
    try:
        screen = read_pty(master, proc)
        proc.wait(10)
    finally:
        os.close(master)
        proc.kill()
    assert proc.returncode == 0, screen
    assert "\r" in screen and "█" in screen
    assert "'python' on stackoverflow: 3/3 pages |" in screen
    # 295: the API also answered the count filter's making (once per Redis, not this run's call)
    assert "300 questions, 5 calls, quota 295 left" in screen
    assert not any(PAGE_LINE.match(line.strip()) for line in screen.splitlines())
    assert "harvested 3 pages (1-3)" in screen


def test_without_a_terminal_it_writes_one_plain_line_per_page(clean):
    run = run_harvester(clean.ini, "-s", "python", "-m", 3)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    pages = [PAGE_LINE.match(line) for line in lines[:3]]
    assert [m.group(1, 2, 3, 4) for m in pages] == [
        ("1", "1", "3", "100"), ("2", "2", "3", "100"), ("3", "3", "3", "100")]
    # Questions stay stored between tests (only searches are cleared): "new" varies.
    assert re.fullmatch(r"harvested 3 pages \(1-3\) of 'python' on stackoverflow into saved "
                        f"search {search_id(clean, q='python')}: 300 questions, \\d+ new, "
                        r"0 updated; 5 API calls, quota 295 left", lines[3]), lines[3]
    assert "\r" not in run.stdout + run.stderr and "█" not in run.stderr


def test_json_dir_gets_a_folder_per_search_and_sort(clean, tmp_path):
    run = run_harvester(clean.ini, "-s", "python", "--sort", "votes", "-m", 2,
                        "--json-dir", tmp_path / "pages")
    assert run.returncode == 0, run.stderr
    folder = hashlib.md5(b"stackoverflowpythonvotes").hexdigest()
    files = sorted(p.relative_to(tmp_path / "pages").as_posix()
                   for p in (tmp_path / "pages").rglob("*") if p.is_file())
    assert files == [f"{folder}/page_1.json", f"{folder}/page_2.json"]


def test_quota_used_up_exits_3_saying_when_it_renews(clean, upstream):
    upstream.configure(quota=4)  # the filter, the total, pages 1 and 2: none left today
    # A call may wait for a quota that renews within --max-wait: keep clear of midnight.
    time.sleep(max(0.0, 40 - seconds_to_utc_midnight()))
    run = run_harvester(clean.ini, "-s", "python", "-m", 5, "--max-wait", 30, "--use-reserve")
    assert run.returncode == 3, run.stderr
    assert "renews at 00:00 UTC" in run.stderr and "this run stored pages 1-2" in run.stderr
    assert stored_pages(clean, search_id(clean, q="python")) == [1, 2]


def test_the_reserve_is_left_to_people_browsing_unless_told_to_use_it(clean, upstream):
    upstream.configure(quota=10)  # 20 % kept: 2; the filter, the total and 6 pages spend the rest
    run = run_harvester(clean.ini, "-s", "python", "-m", 9)
    assert run.returncode == 3, run.stderr
    assert ("the daily API quota's reserve (2 of 10 calls) is kept for people browsing (2 left);"
            " the quota renews at 00:00 UTC; this run stored pages 1-6") in run.stderr
    assert upstream.stats()["requests"] == 8
    run = run_harvester(clean.ini, "-s", "python", "-m", 2, "-r", "--use-reserve")
    assert run.returncode == 0, run.stderr
    assert stored_pages(clean, search_id(clean, q="python")) == list(range(1, 9))


def test_an_upstream_failure_exits_2(clean, upstream):
    upstream.set_fault("500")
    run = run_harvester(clean.ini, "-s", "python", "-m", 2)
    assert run.returncode == 2
    assert "the API failed" in run.stderr and "internal_error" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("args, says", [
    (["-s", "python", "-m", "0"], "is not at least 1"),
    (["-s", "python", "--sort", "title"], "invalid choice: 'title'"),
    (["-s", "python", "--site", "nosuchsite"], "unknown site 'nosuchsite'"),
    (["--site", "stackoverflow"], "enter words to search for, tags, or both"),
])
def test_usage_and_input_errors_exit_1(clean, args, says):
    run = run_harvester(clean.ini, *args)
    assert run.returncode == 1
    assert says in run.stderr and "Traceback" not in run.stderr


def test_a_missing_ini_file_exits_1(tmp_path):
    run = run_harvester(tmp_path / "missing.ini", "-s", "python")
    assert run.returncode == 1 and "missing.ini" in run.stderr

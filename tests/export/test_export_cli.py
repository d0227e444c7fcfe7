"""`stackq_export` as a real process, on a database a harvest committed to."""

import csv
import fcntl
import io
import json
import os
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import openpyxl
import pytest

from stackq.export.report import write_export
from stackq.harvest.service import HarvestRequest, run_harvest
from stackq.models import SavedSearch
from tests.support.stack import open_stack
from tests.support.waiting import wait_until

EXPORT = str(Path(sys.executable).parent / "stackq_export")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, emulator):
    with open_stack(tmp_path_factory.mktemp("export_cli"), emulator.base_url) as stack:
        stack.clean()
        yield stack


@pytest.fixture(scope="module")
def harvested(stack, emulator):
    emulator.reset()
    result = run_harvest(stack.session_factory, stack.api,
                         HarvestRequest(q="python", site="stackoverflow", max_pages=2))
    return result.query_id


def export(stack, *args):
    return subprocess.run([EXPORT, str(stack.ini), *map(str, args)], capture_output=True,
                          timeout=60, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def in_process(stack, query_id, fmt, sort="activity", order="desc"):
    out = io.BytesIO()
    with stack.session() as dbsession:
        write_export(dbsession, dbsession.get(SavedSearch, query_id), fmt, out, sort, order)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "xlsx"])
def test_export_writes_the_report_to_a_file(stack, harvested, tmp_path, fmt):
    target = tmp_path / f"python.{fmt}"
    run = export(stack, harvested, "--format", fmt, "-o", target)
    assert run.returncode == 0, run.stderr
    assert f"200 results of saved search {harvested} written to {target}".encode() in run.stderr
    assert os.listdir(tmp_path) == [target.name]  # the temporary file was renamed
    assert target.stat().st_mode & 0o044  # readable as any file the user writes
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(target).active
        assert sheet.max_row == 201
    else:
        assert target.read_bytes() == in_process(stack, harvested, fmt)


def test_export_to_stdout_in_another_order(stack, harvested):
    run = export(stack, harvested, "--format", "jsonl", "-o", "-", "--sort", "title")
    assert run.returncode == 0, run.stderr
    assert run.stdout == in_process(stack, harvested, "jsonl", "title", "asc")
    titles = [json.loads(line)["title"] for line in run.stdout.splitlines()]
    assert titles == sorted(titles) and len(titles) == 200
    rows = list(csv.reader(io.StringIO(export(stack, harvested, "-f", "csv", "-o", "-")
                                       .stdout.decode("utf-8-sig"))))
    assert len(rows) == 201


@pytest.mark.parametrize("args, says", [
    (["999999", "--format", "csv", "-o", "-"], b"there is no saved search 999999"),
    (["{id}", "--format", "xlsx", "-o", "-"], b"xlsx cannot be written to stdout"),
    (["{id}", "--format", "xml", "-o", "-"], b"invalid choice: 'xml'"),
    (["{id}", "--format", "csv"], b"-o/--output"),
])
def test_export_usage_errors_exit_1(stack, harvested, args, says):
    run = export(stack, *[a.format(id=harvested) for a in args])
    assert run.returncode == 1 and says in run.stderr
    assert b"Traceback" not in run.stderr


def pipe_holds(pipe):
    """Bytes written to `pipe` that nobody read yet."""
    return struct.unpack("i", fcntl.ioctl(pipe, termios.FIONREAD, b"\0\0\0\0"))[0]


def test_sigterm_stops_an_export_whose_reader_does_not_read_and_exits_0(stack, emulator):
    emulator.reset()
    query_id = run_harvest(stack.session_factory, stack.api,
                           HarvestRequest(q="", tagged="javascript", site="stackoverflow",
                                          max_pages=6)).query_id
    proc = subprocess.Popen([EXPORT, str(stack.ini), str(query_id), "--format", "jsonl",
                             "-o", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        # Nobody reads: once the pipe is full the export blocks on its next write. (Full: up
        # to one line short of 64 KiB, and a line holds a body twice, text and HTML.)
        wait_until(lambda: pipe_holds(proc.stdout) >= 48_000, 30, "the pipe to fill")
        time.sleep(0.3)
        assert proc.poll() is None, "the export ended before it filled the pipe"
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(10)
    finally:
        proc.kill()
        proc.stdout.close()
    assert code == 0
    assert b"stopped by SIGTERM; the output is cut short" in proc.stderr.read()
    proc.stderr.close()

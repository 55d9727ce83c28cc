"""A recording line is written whole or not at all, and the recorder follows its file: a record
directory removed or replaced while the server runs is recreated, with one warning, and later
requests are recorded. Writes fail at the system edge (`os.write`, /dev/full). The recorder's tests
write each line as its request ends (RECORD_BUFFER 0): held lines, written together, are
tests/reliability/test_record_buffer.py's."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from perftoolkit.middleware import recorder as recorder_module
from perftoolkit.middleware.capture import failures
from perftoolkit.middleware.recorder import Recorder, _append
from perftoolkit.middleware.recording import build_report
from tests.support.recordings import written_lines

PATH = "/mw/three/"
UNBUFFERED = {"RECORD_BUFFER": 0}  # each line written as its request ends
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_failures() -> Any:
    failures.reset()
    yield
    failures.reset()
    recorder_module._recorders.clear()


def _line(n: int) -> dict[str, Any]:
    return {"method": "GET", "route": f"r{n}/", "status": 200, "queries": []}


def _lines(directory: Path) -> list[str]:
    return [t for f in sorted(directory.glob("*.jsonl")) for t in f.read_text().splitlines(True)]


@override_settings(PERFTOOLKIT=UNBUFFERED)
def test_short_write_is_cut_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder(str(tmp_path))
    rec.record(_line(1), [])
    real_write = os.write
    monkeypatch.setattr(recorder_module.os, "write", lambda fd, data: real_write(fd, data[:7]))
    with pytest.raises(OSError, match="short write: 7 of"):
        rec.record(_line(2), [])
    monkeypatch.undo()
    rec.record(_line(3), [])
    assert [json.loads(t)["route"] for t in _lines(tmp_path)] == ["r1/", "r3/"]
    assert all(t.endswith("\n") for t in _lines(tmp_path))


def test_dev_full_raises_and_leaves_nothing() -> None:
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(OSError, match="No space left") as raised:
            _append(fd, b'{"method":"GET"}\n')
    finally:
        os.close(fd)
    assert raised.value.errno == errno.ENOSPC


@override_settings(PERFTOOLKIT=UNBUFFERED)
def test_torn_tail_of_a_reused_pid_is_cut(tmp_path: Path) -> None:
    """A file this pid left with a torn last line (a crash mid-write): the new line is not glued
    to it."""
    whole = json.dumps(_line(0)) + "\n"
    (tmp_path / f"{os.getpid()}.jsonl").write_text(whole + '{"method":"GE')
    Recorder(str(tmp_path)).record(_line(1), [])
    assert [json.loads(t)["route"] for t in _lines(tmp_path)] == ["r0/", "r1/"]


def test_disk_full_leaves_response_and_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    record_dir = tmp_path / "rec"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir), **UNBUFFERED}):
        before = Client().get(PATH)

        def full(fd: int, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(recorder_module.os, "write", full)
        with caplog.at_level(logging.WARNING, logger="perftoolkit"):
            during = [Client().get(PATH) for _ in range(3)]
        monkeypatch.undo()
        after = Client().get(PATH)
    for response in (*during, after):
        assert (response.status_code, response.content) == (before.status_code, before.content)
        assert dict(response.headers) == dict(before.headers)
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert "No space left" in str(caplog.records[0].exc_info[1])  # type: ignore[index]
    lines = _lines(record_dir)
    assert len(lines) == 2  # before and after: the three failed writes left nothing
    assert all(t.endswith("\n") and json.loads(t)["route"] == "mw/three/" for t in lines)


@pytest.mark.parametrize("how", ["removed", "replaced"])
def test_record_directory_removed_mid_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setattr(
        recorder_module, "_RECHECK_SECONDS", 0.0
    )  # the path compared before each line
    record_dir = tmp_path / "rec"
    with (
        override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir), **UNBUFFERED}),
        caplog.at_level(logging.WARNING, logger="perftoolkit"),
    ):
        assert Client().get(PATH).status_code == 200
        if how == "removed":
            shutil.rmtree(record_dir)
        else:
            record_dir.rename(tmp_path / "old")
            record_dir.mkdir()
        for _ in range(3):
            assert Client().get(PATH).status_code == 200
    assert len(_lines(record_dir)) == 3
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "removed or replaced while recording; reopened" in caplog.records[0].getMessage()
    assert (record_dir / "environment.json").exists()


def test_reader_skips_torn_and_glued_lines(tmp_path: Path) -> None:
    """What a crash or a short write on another system could leave: a torn tail, and a torn line
    with the next one glued to it (a reused pid appending). Both are skipped and counted."""
    record_dir = tmp_path / "rec"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir)}):
        for _ in range(3):
            Client().get(PATH)
    first, second, third = (line + "\n" for line in written_lines(record_dir))
    [file] = record_dir.glob("*.jsonl")
    assert file.read_text() == first + second + third
    file.write_text(first + second[:20] + third + third[:30])
    run = build_report([record_dir])
    # The torn fragment and the torn tail are skipped; the whole line glued after it is read.
    assert run.skipped_lines == 2
    assert sum(e.requests for e in run.endpoints) == 2

"""RECORD_BUFFER: record lines held in memory and written together, whole, when the buffer fills,
when the oldest is a second old, before a report is built in the process, before a fork and at
exit; without it (the default) each line is written as its request ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from perftoolkit.conf import get_settings
from perftoolkit.middleware import recorder as recorder_module
from perftoolkit.middleware.recorder import Recorder, encode_line, flush_recorders
from perftoolkit.middleware.recording import build_report

PATH = "/mw/three/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_recorders() -> Any:
    recorder_module._recorders.clear()
    yield
    recorder_module._recorders.clear()


def _line(n: int) -> dict[str, Any]:
    return {"method": "GET", "route": f"r{n}/", "status": 200, "queries": []}


def _routes(directory: Path) -> list[str]:
    return [
        json.loads(t)["route"]
        for f in sorted(directory.glob("*.jsonl"))
        for t in f.read_text().splitlines()
    ]


def test_without_a_buffer_each_line_is_written_at_once(tmp_path: Path) -> None:
    assert get_settings().record_buffer == 0
    Recorder(str(tmp_path)).record(_line(1), [])
    assert _routes(tmp_path) == ["r1/"]


def test_lines_are_held_until_the_buffer_fills(tmp_path: Path) -> None:
    size = len(encode_line(_line(1)))
    with override_settings(PERFTOOLKIT={"RECORD_BUFFER": 3 * size - 1}):
        rec = Recorder(str(tmp_path))
        rec.record(_line(1), [])
        rec.record(_line(2), [])
        assert _routes(tmp_path) == []
        rec.record(_line(3), [])
        assert _routes(tmp_path) == ["r1/", "r2/", "r3/"]
        rec.record(_line(4), [])
        assert _routes(tmp_path) == ["r1/", "r2/", "r3/"]
        rec.flush()
        assert _routes(tmp_path) == ["r1/", "r2/", "r3/", "r4/"]
    assert (tmp_path / f"{os.getpid()}.jsonl").read_text().endswith("\n")


def test_a_held_line_is_written_with_the_next_one_a_second_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [100.0]
    monkeypatch.setattr(recorder_module, "monotonic", lambda: clock[0])
    with override_settings(PERFTOOLKIT={"RECORD_BUFFER": 1 << 20}):
        rec = Recorder(str(tmp_path))
        rec.record(_line(1), [])
        clock[0] = 100.9
        rec.record(_line(2), [])
        assert _routes(tmp_path) == []
        clock[0] = 101.0
        rec.record(_line(3), [])
        assert _routes(tmp_path) == ["r1/", "r2/", "r3/"]


def test_a_report_built_in_the_process_sees_the_held_lines(tmp_path: Path, db: None) -> None:
    record_dir = tmp_path / "rec"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir), "RECORD_BUFFER": 1 << 20}):
        for _ in range(3):
            assert Client().get(PATH).status_code == 200
        assert _routes(record_dir) == []
        run = build_report(record_dir)
    [endpoint] = run.endpoints
    assert (endpoint.route, endpoint.requests) == ("mw/three/", 3)
    assert _routes(record_dir) == ["mw/three/"] * 3


def test_a_failed_write_of_held_lines_is_logged_and_nothing_is_torn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(PERFTOOLKIT={"RECORD_BUFFER": 1 << 20}):
        rec = recorder_module.recorder_for(str(tmp_path))
        rec.record(_line(1), [])
        rec.flush()
        rec.record(_line(2), [])
        real_write = os.write
        monkeypatch.setattr(recorder_module.os, "write", lambda fd, data: real_write(fd, data[:5]))
        flush_recorders()
        monkeypatch.undo()
        rec.record(_line(3), [])
        rec.flush()
    assert _routes(tmp_path) == ["r1/", "r3/"]
    assert "held record lines" in caplog.text
    assert "short write: 5 of" in caplog.text


def test_held_lines_are_written_before_a_fork_and_at_exit(tmp_path: Path) -> None:
    """In a process of its own: the parent's held line is written once (before the fork), the
    child's own held line at its exit, and the parent's last one at its exit."""
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
        import django
        from django.conf import settings
        django.setup()
        settings.PERFTOOLKIT = {{"RECORD_BUFFER": 1 << 20}}
        from perftoolkit.conf import reset_settings
        reset_settings()
        from perftoolkit.middleware.recorder import recorder_for
        rec = recorder_for({str(tmp_path)!r})
        rec.record({{"method": "GET", "route": "parent-1/", "queries": []}}, [])
        pid = os.fork()
        if pid == 0:
            rec.record({{"method": "GET", "route": "child/", "queries": []}}, [])
            sys.exit(0)
        os.waitpid(pid, 0)
        rec.record({{"method": "GET", "route": "parent-2/", "queries": []}}, [])
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, cwd=ROOT)
    assert sorted(_routes(tmp_path)) == ["child/", "parent-1/", "parent-2/"]
    files = sorted(p.name for p in tmp_path.glob("*.jsonl"))
    assert len(files) == 2  # the parent's and the child's

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from perftoolkit.conf import reset_settings
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.schema import read_run, run_to_dict, write_run


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: Client) -> Path:
    record_dir = tmp_path / "rec"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(record_dir))
    reset_settings()
    client.get("/corpus/fk/")
    return record_dir


@pytest.mark.django_db
def test_write_run_record_dir_relative_to_report(recorded: Path, tmp_path: Path) -> None:
    run = build_report(recorded)
    assert run.record_dir == str(recorded.resolve())
    path = write_run(run, tmp_path / "reports" / "fk" / "report.json")
    assert json.loads(path.read_text())["record_dir"] == "../../rec"
    assert read_run(path).record_dir == str(recorded.resolve())


@pytest.mark.django_db
def test_run_to_dict_record_dir_null_without_location(recorded: Path) -> None:
    assert run_to_dict(build_report(recorded))["record_dir"] is None


@pytest.mark.django_db
def test_read_run_report_without_record_dir(recorded: Path, tmp_path: Path) -> None:
    path = write_run(build_report(recorded), tmp_path / "report.json")
    data = json.loads(path.read_text())
    del data["record_dir"]
    path.write_text(json.dumps(data))
    assert read_run(path).record_dir is None

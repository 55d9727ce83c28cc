"""Record directory → report.json, and every way a record directory can be wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from perftoolkit.conf import reset_settings
from perftoolkit.exceptions import ReportFormatError
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.schema import read_run, run_to_dict, write_run
from tests.corpus.data import seed
from tests.support.recordings import written_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    seed()
    directory = tmp_path / "rec"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(directory))
    reset_settings()
    client = Client()
    for path in (
        "/corpus/fk/",
        "/corpus/fk/",
        "/corpus/chain2/",
        "/corpus/write_on_get/",
        "/mw/regex/3/",
    ):
        client.get(path)
    assert len(written_lines(directory)) == 5  # on disk: the tests below edit the file
    return directory


def test_build_report_contract_keys(recorded: Path, tmp_path: Path) -> None:
    run = build_report(recorded, label="corpus")
    data = run_to_dict(run)
    assert data["schema"] == "perftoolkit.audit/1"
    assert set(data) >= {
        "schema",
        "label",
        "started_at",
        "finished_at",
        "complete",
        "environment",
        "endpoints",
        "queries",
        "findings",
        "indexes",
        "load",
        "cache",
    }
    assert data["label"] == "corpus"
    assert data["complete"] is True
    assert data["indexes"] == []
    assert data["load"] is None
    assert set(data["environment"]) == {"python", "django", "perftoolkit", "database"}
    fk = next(e for e in data["endpoints"] if e["route"] == "corpus/fk/")
    assert set(fk) >= {
        "method",
        "route",
        "view",
        "requests",
        "status_codes",
        "queries",
        "duplicates",
        "db_ms",
        "latency_ms",
        "cache",
        "budget",
        "finding_ids",
    }
    assert (fk["requests"], fk["queries"], fk["status_codes"]) == (
        2,
        {"min": 7, "median": 7, "max": 7},
        {"200": 2},
    )
    assert fk["budget"] == {"limits": {}, "status": "none", "exceeded": []}
    [finding] = [f for f in data["findings"] if f["route"] == "corpus/fk/"]
    assert finding["requests"] == 2
    assert finding["repeats"] == 6
    assert finding["fix"] == {"action": "select_related", "code": '.select_related("author")'}
    assert finding["id"] in fk["finding_ids"]
    assert {e["route"] for e in data["endpoints"]} == {
        "corpus/fk/",
        "corpus/chain2/",
        "corpus/write_on_get/",
        "mw/regex/<pk>/",
    }
    query = data["queries"][0]
    assert set(query) >= {
        "fingerprint",
        "sql",
        "tables",
        "routes",
        "calls",
        "total_ms",
        "max_ms",
        "per_request_max",
    }
    text = json.dumps(data)
    assert str(tmp_path) not in text  # no absolute paths


def test_report_round_trip(recorded: Path, tmp_path: Path) -> None:
    run = build_report(recorded, label="corpus")
    path = write_run(run, tmp_path / "out" / "report.json")
    again = read_run(path)
    assert run_to_dict(again) == run_to_dict(run)
    # Beside the original: record_dir is written relative to the report file.
    assert path.read_text() == write_run(again, tmp_path / "out" / "copy.json").read_text()


def test_build_report_skips_a_torn_last_line(recorded: Path) -> None:
    jsonl = next(recorded.glob("*.jsonl"))
    with jsonl.open("a") as handle:
        handle.write('{"method": "GET", "rou')
    run = build_report(recorded)
    assert sum(e.requests for e in run.endpoints) == 5
    assert run.skipped_lines == 1
    assert run.notes == (
        f"Skipped 1 unreadable line of the recording: {jsonl.name}:6 (incomplete last line). "
        "Requests on them are not counted.",
    )


def test_build_report_skips_a_foreign_line_in_mid_file(recorded: Path) -> None:
    jsonl = next(recorded.glob("*.jsonl"))
    lines = jsonl.read_text().splitlines()
    jsonl.write_text("\n".join([lines[0], "not json", *lines[1:]]) + "\n")
    run = build_report(recorded)
    assert sum(e.requests for e in run.endpoints) == 5
    assert run.skipped_lines == 1
    assert run.notes[0].startswith(
        f"Skipped 1 unreadable line of the recording: {jsonl.name}:2 (not JSON: "
    )


def test_build_report_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ReportFormatError, match="does not exist. Record requests into it first"):
        build_report(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportFormatError, match=r"holds no recordings \(\*\.jsonl\)"):
        build_report(tmp_path / "empty")
    (tmp_path / "file").write_text("")
    with pytest.raises(ReportFormatError, match="is a file, not a record directory"):
        build_report(tmp_path / "file")


def test_read_run_refuses_unknown_schema(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema": "perftoolkit.audit/2", "label": "x"}))
    with pytest.raises(
        ReportFormatError,
        match=r"has schema 'perftoolkit.audit/2'; this perftoolkit reads 'perftoolkit.audit/1'",
    ):
        read_run(path)
    path.write_text("{not json")
    with pytest.raises(ReportFormatError, match=r"is not valid JSON \(line 1, column 2"):
        read_run(path)
    path.write_text(json.dumps({"label": "x"}))
    with pytest.raises(ReportFormatError, match="has no 'schema' field"):
        read_run(path)


def test_build_report_warns_of_an_unreadable_environment_file(
    recorded: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (recorded / "environment.json").write_text("{not json")

    with caplog.at_level("WARNING", logger="perftoolkit"):
        run = build_report(recorded, label="corpus")

    assert run.environment.get("django") is None
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"perftoolkit: {recorded / 'environment.json'} is unreadable"
    ]

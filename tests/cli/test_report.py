from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from perftoolkit.cli.main import main
from perftoolkit.conf import reset_settings
from perftoolkit.reporting.schema import write_run
from tests.corpus.data import seed
from tests.support.runs import after_run, before_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    seed()
    directory = tmp_path / "rec"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(directory))
    reset_settings()
    Client().get("/corpus/fk/")
    Client().get("/corpus/count/")
    monkeypatch.delenv("PERFTOOLKIT_RECORD_DIR")
    reset_settings()
    return directory


def test_cli_report_build_and_show(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    assert main(["report", "build", str(recorded), "-o", str(out), "--label", "corpus"]) == 0
    assert capsys.readouterr().out == f"{out}: 2 endpoints, 2 requests, 2 findings\n"
    assert json.loads(out.read_text())["label"] == "corpus"
    assert main(["report", "show", str(out), "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("## perftoolkit report: corpus\n")
    assert '`.select_related("author")`' in markdown
    assert main(["report", "show", str(out), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["schema"] == "perftoolkit.audit/1"
    assert main(["report", "show", str(out)]) == 0
    assert 'fix: .annotate(reviews_count=Count("reviews"))' in capsys.readouterr().out


def test_cli_bad_input_is_one_message_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "build", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: {tmp_path / 'nope'} does not exist.")
    assert "Traceback" not in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "other/1"}')
    assert main(["report", "show", str(bad)]) == 1
    assert "has schema 'other/1'" in capsys.readouterr().err


def test_cli_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "build"]) == 2
    assert "Missing argument" in capsys.readouterr().err


def test_perf_report_command_build(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    call_command("perf_report", "build", str(recorded), "-o", str(out))
    assert json.loads(out.read_text())["label"] == "rec"
    call_command("perf_report", "show", str(out))
    assert "## perftoolkit report: rec" in capsys.readouterr().out


def test_perf_report_command_bad_input(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist") as info:
        call_command("perf_report", "build", str(tmp_path / "nope"))
    assert info.value.returncode == 1


@pytest.fixture
def reports(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write_run(before_run(), tmp_path / "before" / "report.json"),
        write_run(after_run(), tmp_path / "after" / "report.json"),
    )


def test_report_compare_writes_and_exits_0(
    reports: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "compare"

    code = main(["report", "compare", str(reports[0]), str(reports[1]), "-o", str(out)])

    assert code == 0
    assert capsys.readouterr().out.startswith(f"{out / 'index.html'}: before → after, 7 endpoints")
    assert json.loads((out / "compare.json").read_text())["schema"] == "perftoolkit.compare/1"


def test_report_compare_fail_on_regression_exits_3(
    reports: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "compare"

    code = main(
        ["report", "compare", *map(str, reports), "-o", str(out), "--fail-on", "regression"]
    )

    assert code == 3
    assert capsys.readouterr().err.startswith(
        "Error: 1 endpoint regressed from before to after: GET api/projects/<int:pk>/tasks/"
    )
    assert (out / "compare.md").exists()


def test_report_compare_tolerance_lifts_the_latency_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = write_run(before_run(), tmp_path / "b.json")
    after = after_run()
    # Keep the p95 rise (150 → 190 ms) but not the extra query.
    same_queries = after.with_changes(
        endpoints=tuple(
            e.__class__.from_dict({**e.to_dict(), "queries": {"min": 4, "median": 4, "max": 4}})
            if e.route == "api/projects/<int:pk>/tasks/"
            else e
            for e in after.endpoints
        )
    )
    after_path = write_run(same_queries, tmp_path / "a.json")
    args = [
        "report",
        "compare",
        str(before),
        str(after_path),
        "-o",
        str(tmp_path / "c"),
        "--fail-on",
        "regression",
    ]

    assert main([*args, "--tolerance", "0.25"]) == 3
    assert main([*args, "--tolerance", "0.3"]) == 0


def test_report_compare_bad_input_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "report.json"
    bad.write_text('{"schema": "perftoolkit.audit/7"}')

    code = main(["report", "compare", str(bad), str(bad), "-o", str(tmp_path / "out")])

    assert code == 1
    assert capsys.readouterr().err == (
        f"Error: {bad} has schema 'perftoolkit.audit/7'; this perftoolkit reads "
        "'perftoolkit.audit/1'. Use the perftoolkit version that wrote it, or rebuild it from "
        "its recordings.\n"
    )
    assert not (tmp_path / "out").exists()


def test_report_compare_missing_file_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["report", "compare", str(tmp_path / "nope.json"), str(tmp_path), "-o", str(tmp_path / "o")]
    )

    assert code == 1
    assert capsys.readouterr().err == (
        f"Error: {tmp_path / 'nope.json'} does not exist. Give the path of a report.json.\n"
    )


def test_report_html(reports: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    before, _ = reports

    assert main(["report", "html", str(before.parent)]) == 0
    assert capsys.readouterr().out == f"{before.parent / 'index.html'}\n"
    assert (before.parent / "index.html").read_text().startswith("<!DOCTYPE html>")

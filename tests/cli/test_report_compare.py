from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from perftoolkit.cli.main import main
from perftoolkit.core.latency import Histogram
from perftoolkit.core.runs.paths import QueryPath
from perftoolkit.core.runs.run import AuditRun
from perftoolkit.reporting.schema import write_run
from tests.support.runs import after_run, before_run


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


def test_report_compare_tolerance_and_confidence_decide_the_latency_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = "api/projects/<int:pk>/tasks/"

    def measured(run: AuditRun, ms: list[float]) -> AuditRun:
        # 30 requests of tasks, all of them timed: enough for the rank test to judge.
        return run.with_changes(
            endpoints=tuple(
                replace(
                    e,
                    requests=30,
                    queries_min=4,
                    queries_max=4,
                    query_paths=(QueryPath("tasks", 30, 4, 4),),
                    durations=Histogram.of(ms[n % len(ms)] for n in range(30)),
                )
                if e.route == tasks
                else e
                for e in run.endpoints
            )
        )

    before = write_run(measured(before_run(), [100.0]), tmp_path / "b.json")
    after = write_run(measured(after_run(), [130.0]), tmp_path / "a.json")  # 30 % slower
    args = [
        "report",
        "compare",
        str(before),
        str(after),
        "-o",
        str(tmp_path / "c"),
        "--fail-on",
        "regression",
    ]

    assert main([*args, "--tolerance", "0.25"]) == 3
    assert "server time slower by more than 25 % at 99 % confidence" in capsys.readouterr().err
    assert main([*args, "--tolerance", "0.3"]) == 0
    assert main([*args, "--confidence", "1"]) == 1
    assert "--confidence is 1; it is the confidence of the latency tests" in capsys.readouterr().err


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

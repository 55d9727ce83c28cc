from __future__ import annotations

from pathlib import Path

import pytest

from perftoolkit.exceptions import ConfigurationError, RegressionDetected, ReportFormatError
from perftoolkit.reporting.comparing import compare_reports, find_report, summary, write_comparison
from perftoolkit.reporting.schema import read_comparison, write_run
from tests.support.runs import after_run, before_run


@pytest.fixture
def reports(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write_run(before_run(), tmp_path / "before" / "report.json"),
        write_run(after_run(), tmp_path / "after" / "report.json"),
    )


def test_write_comparison_writes_json_html_and_markdown(tmp_path: Path) -> None:
    comparison = write_comparison(before_run(), after_run(), tmp_path / "compare")

    assert sorted(p.name for p in (tmp_path / "compare").iterdir()) == [
        "compare.json",
        "compare.md",
        "index.html",
    ]
    assert read_comparison(tmp_path / "compare" / "compare.json") == comparison
    assert (
        (tmp_path / "compare" / "compare.md")
        .read_text()
        .startswith("## perftoolkit: before → after")
    )


def test_compare_reports_accepts_files_or_directories(
    reports: tuple[Path, Path], tmp_path: Path
) -> None:
    before, after = reports

    by_file = compare_reports(before, after, tmp_path / "a")
    by_dir = compare_reports(before.parent, after.parent, tmp_path / "b")

    assert by_file == by_dir
    assert (tmp_path / "a" / "compare.json").read_text() == (
        tmp_path / "b" / "compare.json"
    ).read_text()


def test_compare_reports_fail_on_regression_writes_then_raises(
    reports: tuple[Path, Path], tmp_path: Path
) -> None:
    with pytest.raises(RegressionDetected) as info:
        compare_reports(*reports, tmp_path / "out", fail_on="regression")

    assert info.value.exit_code == 3
    assert str(info.value) == (
        "1 endpoint regressed from before to after: GET api/projects/<int:pk>/tasks/ "
        f"(queries.max rose from 4 to 5 on requests that ran the same statements). See {tmp_path / 'out' / 'index.html'}."
    )
    assert (tmp_path / "out" / "index.html").exists()


def test_compare_reports_no_regression_passes_the_gate(
    reports: tuple[Path, Path], tmp_path: Path
) -> None:
    before, _ = reports

    comparison = compare_reports(before, before, tmp_path / "out", fail_on="regression")

    assert comparison.regressions == ()


def test_find_report_directory_without_report(tmp_path: Path) -> None:
    with pytest.raises(ReportFormatError) as info:
        find_report(tmp_path)

    assert str(info.value) == (
        f"{tmp_path} is a directory without a report.json. Give the path of a report.json (or of "
        f"the directory an audit wrote it to); if {tmp_path} is a record directory, build one "
        f"first: `perftoolkit report build {tmp_path} -o {tmp_path / 'report.json'}`."
    )


def test_compare_reports_refuses_bad_options(reports: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--tolerance is -0.5; it is the smallest"):
        compare_reports(*reports, tmp_path, tolerance=-0.5)
    with pytest.raises(ConfigurationError, match="--confidence is 0.2; it is the confidence"):
        compare_reports(*reports, tmp_path, confidence=0.2)
    with pytest.raises(ConfigurationError, match="--fail-on 'budget' is not a gate"):
        compare_reports(*reports, tmp_path, fail_on="budget")
    assert list(tmp_path.glob("*.html")) == []


def test_summary(tmp_path: Path) -> None:
    comparison = write_comparison(before_run(), after_run(), tmp_path)

    assert summary(comparison, tmp_path) == (
        f"{tmp_path / 'index.html'}: before → after, 7 endpoints compared, queries per request "
        "16.22 → 4.74, findings 4 fixed / 1 new / 1 remaining, 1 regression"
    )

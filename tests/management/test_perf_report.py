from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from perftoolkit.reporting.schema import write_run
from tests.support.runs import after_run, before_run


def test_perf_report_compare(tmp_path: Path) -> None:
    before = write_run(before_run(), tmp_path / "before" / "report.json")
    after = write_run(after_run(), tmp_path / "after" / "report.json")
    out = StringIO()

    call_command(
        "perf_report",
        "compare",
        str(before.parent),
        str(after),
        "-o",
        str(tmp_path / "c"),
        stdout=out,
    )

    assert out.getvalue().startswith(f"{tmp_path / 'c' / 'index.html'}: before → after")
    assert (tmp_path / "c" / "compare.json").exists()


def test_perf_report_compare_fail_on_regression(tmp_path: Path) -> None:
    before = write_run(before_run(), tmp_path / "before.json")
    after = write_run(after_run(), tmp_path / "after.json")

    with pytest.raises(CommandError) as info:
        call_command(
            "perf_report",
            "compare",
            str(before),
            str(after),
            "-o",
            str(tmp_path / "c"),
            "--fail-on",
            "regression",
        )

    assert info.value.returncode == 3
    assert str(info.value).startswith("1 endpoint regressed from before to after")

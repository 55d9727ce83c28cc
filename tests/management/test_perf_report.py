from __future__ import annotations

import json
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


@pytest.mark.django_db
def test_perf_report_build_merges_several_record_directories(tmp_path: Path) -> None:
    from perftoolkit.cli.main import main
    from tests.support.recordings import record_corpus

    web1 = tmp_path / "web-1"
    lines = record_corpus(web1, ["/corpus/fk/", "/corpus/count/"], times=2)
    web2 = tmp_path / "web-2"
    web2.mkdir()
    (web2 / "99.jsonl").write_text("\n".join(lines[:3]) + "\n")
    out = StringIO()

    call_command(
        "perf_report",
        "build",
        str(web1),
        str(web2),
        str(web1),
        "-o",
        str(tmp_path / "r.json"),
        stdout=out,
    )

    assert out.getvalue() == f"{tmp_path / 'r.json'}: 2 endpoints, 7 requests, 2 findings\n"
    assert main(["report", "build", str(web1), str(web2), "-o", str(tmp_path / "c.json")]) == 0
    cli = json.loads((tmp_path / "c.json").read_text())
    command = json.loads((tmp_path / "r.json").read_text())
    assert cli["label"] == command["label"] == "web-1+web-2"
    assert sum(e["requests"] for e in cli["endpoints"]) == 7
    assert cli["endpoints"] == command["endpoints"]

"""Every command that writes a file refuses an output it cannot write before doing any work:
one clear message naming the flag, exit 1, nothing written, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from perftoolkit.cli.main import main
from perftoolkit.reporting.schema import write_run
from tests.support.budget_runs import endpoint, run_of

# Outputs no user can write, even root: a directory given for a file, a file below a file, a
# place the kernel refuses files in, a device.
BAD_FILES = {
    "a directory": ("{tmp}/outdir", "is a directory; give the path of the file to write"),
    "below a file": ("{tmp}/plain/report.json", "plain is a file, not a directory"),
    "in /proc": ("/proc/self/perftoolkit.json", "cannot be written: "),
    "a device": ("/dev/full", "is not a regular file"),
}


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outdir").mkdir()
    (tmp_path / "plain").write_text("x")
    (tmp_path / "perf-budgets.toml").write_text('[endpoints."GET corpus/fk/"]\nqueries = 4\n')
    write_run(run_of(endpoint("corpus/fk/", 6)), tmp_path / "report.json")
    return tmp_path


def _bad(place: Path, case: str) -> tuple[str, str]:
    path, message = BAD_FILES[case]
    return path.format(tmp=place), message


def _fails_cleanly(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_report_build_checks_its_output_before_reading_anything(
    place: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    output, message = _bad(place, case)
    # The record directory does not exist: the output is judged first, so its error shows.
    err = _fails_cleanly(["report", "build", "missing", "-o", output], message, capsys)
    assert err.startswith(f"Error: -o {output} ")


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_report_html_checks_its_output(
    place: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    output, message = _bad(place, case)
    _fails_cleanly(["report", "html", "report.json", "-o", output], message, capsys)


def test_report_compare_checks_its_out_dir(place: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails_cleanly(
        ["report", "compare", "report.json", "report.json", "-o", "plain"],
        "--out-dir plain is a file, not a directory",
        capsys,
    )
    _fails_cleanly(
        ["report", "compare", "report.json", "report.json", "-o", "/proc/self/compare"],
        "--out-dir /proc/self/compare cannot be written",
        capsys,
    )
    assert not (place / "reports").exists()


@pytest.mark.parametrize("flag", ["--junit-xml", "--markdown", "--output"])
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_budget_check_checks_every_output(
    place: Path, flag: str, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    output, message = _bad(place, case)
    argv = ["budget", "check", "--report", "report.json", flag, output]
    err = _fails_cleanly(argv, message, capsys)
    assert f"{flag} {output}" in err
    assert "over budget" not in capsys.readouterr().out  # not judged: nothing ran


def test_indexes_update_report_checks_the_report_can_be_replaced(
    place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root may write anywhere a mode allows nothing, so the full disk is simulated at its edge.
    import tempfile

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    argv = ["indexes", "--report", "report.json", "--update-report", "--settings", "tests.settings"]
    _fails_cleanly(argv, "--update-report report.json cannot be written: Permission denied", capsys)


@pytest.mark.django_db
def test_indexes_write_migration_checks_the_app_before_advising(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "indexes",
        "--report",
        "report.json",
        "--write-migration",
        "nope",
        "--settings",
        "tests.settings",
    ]
    _fails_cleanly(argv, "--write-migration nope: there is no installed app", capsys)


@pytest.mark.django_db
def test_management_commands_check_outputs_too(place: Path) -> None:
    with pytest.raises(CommandError, match="-o outdir is a directory") as info:
        call_command("perf_report", "build", "missing", "-o", "outdir")
    assert info.value.returncode == 1
    with pytest.raises(CommandError, match="--junit-xml /dev/full is not a regular file"):
        call_command("perf_budget", "check", "--report", "report.json", "--junit-xml", "/dev/full")


def test_audit_checks_its_out_dir_before_starting_anything(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["audit", "--url", "http://127.0.0.1:9", "--out-dir", "plain"]
    _fails_cleanly(argv, f"--out-dir {place / 'plain'} is a file, not a directory", capsys)


def test_a_good_output_still_works(place: Path) -> None:
    assert main(["report", "html", "report.json", "-o", "new/dir/page.html"]) == 0
    assert (place / "new" / "dir" / "page.html").read_text().startswith("<!DOCTYPE html>")
    assert json.loads((place / "report.json").read_text())["skipped_lines"] == 0
    assert not list(place.rglob(".perftoolkit-probe-*"))

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from perftoolkit.budgets import BUDGET_FILE
from perftoolkit.cli.main import main
from perftoolkit.reporting.schema import write_run
from tests.support.budget_runs import endpoint, nplusone, run_of


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    (tmp_path / BUDGET_FILE).write_text('[endpoints."GET corpus/fk/"]\nqueries = 4\n')
    write_run(
        run_of(endpoint("corpus/fk/", 6), findings=(nplusone("corpus/fk/"),)),
        tmp_path / "report.json",
    )
    return tmp_path


def test_budget_check_exit_3_names_endpoint(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["budget", "check", "--report", "report.json"]) == 3
    out = capsys.readouterr().out
    assert "GET corpus/fk/" in out
    assert "1 of 1 budgeted endpoint over budget (perf-budgets.toml)" in out


def test_budget_check_exit_0(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "b.toml").write_text('[endpoints."GET corpus/fk/"]\nqueries = 6\n')
    assert main(["budget", "check", "--report", "report.json", "--budgets", "b.toml"]) == 0
    assert capsys.readouterr().out == "All 1 budgeted endpoint within budget (b.toml)\n"


def test_budget_check_malformed_file_exit_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (project / BUDGET_FILE).open("a") as handle:
        handle.write('\n["GET api/courses/"\nqueries = "many"\n')
    assert main(["budget", "check", "--report", "report.json"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: perf-budgets.toml:4: not valid TOML")
    assert "Traceback" not in err


def test_budget_check_unknown_schema_exit_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "other.json").write_text('{"schema": "perftoolkit.audit/9"}')
    assert main(["budget", "check", "--report", "other.json"]) == 1
    assert "other.json has schema 'perftoolkit.audit/9'" in capsys.readouterr().err


def test_budget_check_settings_turns_on_urlconf_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / BUDGET_FILE).write_text('[endpoints."GET corpus/gone/"]\nqueries = 4\n')
    assert main(["budget", "check", "--report", "report.json"]) == 0
    capsys.readouterr()
    assert main(["budget", "check", "--report", "report.json", "--settings", "tests.settings"]) == 1
    assert (
        "Error: perf-budgets.toml:1: 'GET corpus/gone/' names a route the URLconf does not have"
        in (capsys.readouterr().err)
    )


def test_budget_record_and_update(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / BUDGET_FILE).unlink()
    assert main(["budget", "record", "--report", "report.json", "--headroom", "1"]) == 0
    assert (
        (project / BUDGET_FILE).read_text().endswith('[endpoints."GET corpus/fk/"]\nqueries = 7\n')
    )
    assert main(["budget", "update", "--report", "report.json"]) == 0
    assert (
        (project / BUDGET_FILE).read_text().endswith('[endpoints."GET corpus/fk/"]\nqueries = 6\n')
    )
    assert "1 lowered" in capsys.readouterr().out


def test_budget_help_says_when_the_urlconf_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["budget", "check", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert (
        "the CLI runs without Django and skips checking that each budgeted route still exists in the URLconf"
        in out
    )


def test_budget_missing_report_option_is_usage_error(project: Path) -> None:
    assert main(["budget", "check"]) == 2


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "perftoolkit"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_console_script_runs_without_django(project: Path) -> None:
    done = _script("budget", "check", "--report", "report.json")
    assert done.returncode == 3
    assert "GET corpus/fk/" in done.stdout
    assert done.stderr == (
        "Error: 1 of 1 budgeted endpoint over budget (perf-budgets.toml): GET corpus/fk/.\n"
    )


def test_console_script_unknown_settings_module(project: Path) -> None:
    done = _script("budget", "check", "--report", "report.json", "--settings", "nope.settings")
    assert done.returncode == 1
    assert done.stderr.startswith(
        "Error: Django settings 'nope.settings' cannot be loaded (ModuleNotFoundError: "
    )
    assert "Traceback" not in done.stderr

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from perftoolkit.budgets import BUDGET_FILE
from perftoolkit.reporting.schema import write_run
from tests.support.budget_runs import endpoint, nplusone, run_of


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / BUDGET_FILE).write_text('# fk list\n[endpoints."GET corpus/fk/"]\nqueries = 4\n')
    write_run(
        run_of(endpoint("corpus/fk/", 6), findings=(nplusone("corpus/fk/"),)),
        tmp_path / "before.json",
    )
    write_run(run_of(endpoint("corpus/fk/", 2)), tmp_path / "after.json")
    return tmp_path


def _call(*args: str) -> str:
    out = io.StringIO()
    call_command("perf_budget", *args, stdout=out)
    return out.getvalue()


def test_perf_budget_check_passes(project: Path) -> None:
    assert _call("check", "--report", "after.json") == (
        "All 1 budgeted endpoint within budget (perf-budgets.toml)\n"
    )


def test_perf_budget_check_exceeded_returncode_3(project: Path) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command(
            "perf_budget", "check", "--report", "before.json", "--junit-xml", "j.xml", stdout=out
        )
    assert info.value.returncode == 3
    assert "GET corpus/fk/" in out.getvalue()
    assert '.select_related("instructor")' in out.getvalue()
    assert (project / "j.xml").exists()


def test_perf_budget_checks_routes_against_the_urlconf(project: Path) -> None:
    (project / BUDGET_FILE).write_text('[endpoints."GET corpus/fks/"]\nqueries = 4\n')
    with pytest.raises(CommandError) as info:
        _call("check", "--report", "after.json")
    assert info.value.returncode == 1
    assert str(info.value) == (
        "perf-budgets.toml:1: 'GET corpus/fks/' names a route the URLconf does not have (any more). "
        "Rename the table to the route it became (closest: 'GET corpus/fk/'), or remove it."
    )


def test_perf_budget_update_and_record(project: Path) -> None:
    out = _call("update", "--report", "after.json")
    assert out.splitlines()[-1] == "wrote perf-budgets.toml: 1 lowered"
    assert (
        project / BUDGET_FILE
    ).read_text() == '# fk list\n[endpoints."GET corpus/fk/"]\nqueries = 2\n'
    _call("record", "--report", "before.json", "--headroom", "50%")
    assert (
        project / BUDGET_FILE
    ).read_text() == '# fk list\n[endpoints."GET corpus/fk/"]\nqueries = 9\n'

"""django-querycount's QUERYCOUNT['THRESHOLDS'] as the default budget when no budget file exists."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.test import override_settings

from perftoolkit.budgets import BUDGET_FILE
from perftoolkit.budgets.gate import project_budgets
from perftoolkit.budgets.querycount import SOURCE, querycount_budgets, querycount_high
from perftoolkit.core.budgets.rules import Limits
from perftoolkit.reporting.schema import write_run
from tests.support.budget_runs import endpoint, run_of

HINT = (
    "No perf-budgets.toml: every endpoint is judged against django-querycount's "
    "QUERYCOUNT['THRESHOLDS']['HIGH'] = 5 queries. Move it to perf-budgets.toml ([defaults] "
    "queries = 5), or record real budgets with `perftoolkit budget record --report report.json`."
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    write_run(run_of(endpoint("corpus/fk/", 6), endpoint("corpus/m2m/", 3)), tmp_path / "r.json")
    return tmp_path


@pytest.mark.parametrize(
    ("setting", "high"),
    [
        ({"THRESHOLDS": {"MEDIUM": 2, "HIGH": 5}}, 5),
        ({"THRESHOLDS": {"MEDIUM": 2}}, 200),  # querycount's own default
        ({"THRESHOLDS": {"HIGH": "many"}}, None),
        ({"RESPONSE_HEADER": "X-Count"}, None),
        (None, None),
    ],
)
def test_querycount_high(setting: object, high: int | None) -> None:
    with override_settings(QUERYCOUNT=setting):
        assert querycount_high() == high


@override_settings(QUERYCOUNT={"THRESHOLDS": {"HIGH": 5}})
def test_querycount_budgets_are_defaults() -> None:
    budgets = querycount_budgets()
    assert budgets is not None
    assert (budgets.defaults, budgets.endpoints, budgets.source) == (Limits(queries=5), (), SOURCE)


@override_settings(QUERYCOUNT={"THRESHOLDS": {"HIGH": 5}})
def test_check_without_budget_file_judges_against_querycount(project: Path) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("perf_budget", "check", "--report", "r.json", stdout=out)
    assert info.value.returncode == 3
    lines = out.getvalue().splitlines()
    assert lines[0] == HINT
    assert "GET corpus/fk/" in out.getvalue()
    assert "GET corpus/m2m/" not in out.getvalue()
    assert str(info.value) == (
        "1 of 2 budgeted endpoints over budget (QUERYCOUNT['THRESHOLDS']['HIGH']): GET corpus/fk/."
    )


@override_settings(QUERYCOUNT={"THRESHOLDS": {"HIGH": 5}})
def test_budget_file_wins_over_querycount(project: Path) -> None:
    (project / BUDGET_FILE).write_text("[defaults]\nqueries = 10\n")
    out = io.StringIO()
    call_command("perf_budget", "check", "--report", "r.json", stdout=out)
    assert "querycount" not in out.getvalue()
    budgets = project_budgets()
    assert budgets is not None
    assert budgets.defaults == Limits(queries=10)


@override_settings(QUERYCOUNT={"THRESHOLDS": {"HIGH": 5}})
def test_explicit_missing_budget_file_is_an_error_not_querycount(project: Path) -> None:
    with pytest.raises(CommandError) as info:
        call_command("perf_budget", "check", "--report", "r.json", "--budgets", "gone.toml")
    assert info.value.returncode == 1
    assert str(info.value).startswith("gone.toml (from --budgets) does not exist.")


def test_check_without_budget_file_or_querycount_is_an_error(project: Path) -> None:
    with pytest.raises(CommandError) as info:
        call_command("perf_budget", "check", "--report", "r.json")
    assert str(info.value).startswith("No perf-budgets.toml found")


@override_settings(QUERYCOUNT={"THRESHOLDS": {"HIGH": 5}})
def test_project_budgets_fall_back_and_the_check_says_so(project: Path) -> None:
    budgets = project_budgets(required=True)
    assert budgets is not None
    assert budgets.source == SOURCE
    (warning,) = [m for m in run_checks() if m.id == "perftoolkit.W107"]
    assert warning.msg == (
        "No perf-budgets.toml: budgets come from django-querycount's "
        "QUERYCOUNT['THRESHOLDS']['HIGH'] = 5."
    )
    (project / BUDGET_FILE).write_text("[defaults]\nqueries = 10\n")
    assert [m for m in run_checks() if m.id == "perftoolkit.W107"] == []

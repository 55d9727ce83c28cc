from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.test import override_settings

from perftoolkit.audit.files import apply_budgets as apply_audit_budgets
from perftoolkit.budgets import BUDGET_FILE, load_budgets
from perftoolkit.budgets.gate import BudgetOptions, github_path, project_budgets, run_budget_command
from perftoolkit.core.budgets.rules import Limits
from perftoolkit.exceptions import (
    ConfigurationError,
    QueryBudgetExceeded,
    ReportFormatError,
    UnmeasuredRequests,
)
from perftoolkit.reporting.schema import read_run, write_run
from tests.support.budget_runs import endpoint, nplusone, run_of

BUDGETS = """\
# reviewed budgets
[endpoints."GET api/courses/"]
queries = 4

[endpoints."GET api/courses/<int:pk>/"]
queries = 3
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / BUDGET_FILE).write_text(BUDGETS)
    before = run_of(
        endpoint("api/courses/", 26),
        endpoint("api/courses/<int:pk>/", 3),
        findings=(nplusone("api/courses/"),),
    )
    write_run(before, tmp_path / "before.json")
    write_run(
        run_of(endpoint("api/courses/", 4), endpoint("api/courses/<int:pk>/", 2)),
        tmp_path / "after.json",
    )
    return tmp_path


def _run(action: str, **options: object) -> tuple[int, str]:
    out = io.StringIO()
    failure: QueryBudgetExceeded | None = None
    try:
        run_budget_command(action, BudgetOptions(**options), stdout=out)  # type: ignore[arg-type]
    except QueryBudgetExceeded as exc:
        failure = exc
    if failure is None:
        return 0, out.getvalue()
    assert str(failure) == (
        "1 of 2 budgeted endpoints over budget (perf-budgets.toml): GET api/courses/."
    )
    return failure.exit_code, out.getvalue()


def test_check_passes(project: Path) -> None:
    code, out = _run("check", report=Path("after.json"))
    assert code == 0
    assert out == "All 2 budgeted endpoints within budget (perf-budgets.toml)\n"


def test_check_over_budget_exits_3_with_table_and_outputs(project: Path) -> None:
    code, out = _run(
        "check",
        report=Path("before.json"),
        junit_xml=Path("out/junit.xml"),
        markdown=Path("out/budgets.md"),
        output=Path("out/judged.json"),
    )
    assert code == 3
    row = next(line for line in out.splitlines() if "GET api/courses/ " in line)
    assert "+22" in row
    assert '.select_related("instructor")' in row
    assert "::error" not in out
    assert ET.parse(project / "out/junit.xml").getroot().get("failures") == "1"
    assert (project / "out/budgets.md").read_text().startswith("## perftoolkit budgets: ❌ 1 of 2")
    judged = read_run(project / "out/judged.json")
    courses = judged.endpoint("GET", "api/courses/")
    assert courses is not None
    assert (courses.budget.status, courses.budget.exceeded) == ("exceeded", ("queries",))
    assert [f.kind for f in judged.findings] == ["budget_exceeded", "n_plus_one"]


def test_check_github_annotations_when_running_in_actions(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "lms").mkdir()
    (project / "lms" / "serializers.py").write_text("")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(project.parent))
    code, out = _run("check", report=Path("before.json"))
    assert code == 3
    annotations = [line for line in out.splitlines() if line.startswith("::error")]
    assert annotations == [
        f"::error file={project.name}/lms/serializers.py,line=40,title=Query budget%3A GET api/courses/"
        '::GET api/courses/ is over budget: queries 26 > 4 (+22). Fix: .select_related("instructor") '
        "(n_plus_one: N+1: Course.instructor runs once per Course row (20 queries).)"
    ]
    code, out = _run("check", report=Path("before.json"), annotations=False)
    assert "::error" not in out


def test_check_bad_report_is_a_report_error(project: Path) -> None:
    (project / "broken.json").write_text("{")
    with pytest.raises(ReportFormatError, match=r"^broken\.json is not valid JSON \(line 1"):
        _run("check", report=Path("broken.json"))


def test_check_without_budget_file(project: Path) -> None:
    (project / BUDGET_FILE).unlink()
    with pytest.raises(ConfigurationError, match="^No perf-budgets.toml found"):
        _run("check", report=Path("after.json"))


def test_record_creates_the_file(project: Path) -> None:
    (project / BUDGET_FILE).unlink()
    code, out = _run("record", report=Path("before.json"), headroom="10%")
    assert code == 0
    assert out.splitlines()[-2:] == [
        "wrote perf-budgets.toml: 2 added",
        "Note: one of these budgets allows queries that the report's N+1 and duplicate findings "
        "would remove: GET api/courses/ (20 a request). Fix those, then run `update` to lower "
        "the budgets.",
    ]
    budgets = load_budgets(project / BUDGET_FILE)
    assert [(b.key, b.limits) for b in budgets.endpoints] == [
        ("GET api/courses/", Limits(queries=29)),
        ("GET api/courses/<int:pk>/", Limits(queries=4)),
    ]


def test_record_bad_headroom(project: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"^--headroom: headroom 'lots' is not a number"):
        _run("record", report=Path("before.json"), headroom="lots")
    assert (project / BUDGET_FILE).read_text() == BUDGETS


def test_update_ratchets_and_keeps_comments(project: Path) -> None:
    code, out = _run("update", report=Path("after.json"))
    assert code == 0
    assert out.splitlines()[-1] == "wrote perf-budgets.toml: 1 lowered, 1 same"
    assert (project / BUDGET_FILE).read_text() == BUDGETS.replace("queries = 3", "queries = 2")


def test_update_never_raises_and_dry_run_writes_nothing(project: Path) -> None:
    code, out = _run("update", report=Path("before.json"), dry_run=True, allow_increase=True)
    assert code == 0
    assert out.splitlines()[-2] == "would write (dry run) perf-budgets.toml: 1 raised, 1 same"
    # raised with --allow-increase over an N+1: the note says what the new budget lets through
    assert out.splitlines()[-1].startswith("Note: one of these budgets allows queries that")
    assert (project / BUDGET_FILE).read_text() == BUDGETS
    code, out = _run("update", report=Path("before.json"))
    assert "kept: over budget, not raised" in out
    assert (project / BUDGET_FILE).read_text() == BUDGETS


def test_update_needs_an_existing_file(project: Path) -> None:
    (project / BUDGET_FILE).unlink()
    with pytest.raises(
        ConfigurationError, match=r"^perf-budgets\.toml \(from|^No perf-budgets\.toml found"
    ):
        _run("update", report=Path("after.json"))


def test_unknown_action(project: Path) -> None:
    with pytest.raises(ConfigurationError, match="Unknown budget action 'judge'"):
        _run("judge", report=Path("after.json"))


def test_github_path_relative_to_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "site" / "lms").mkdir(parents=True)
    (tmp_path / "site" / "lms" / "views.py").write_text("")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    assert (
        github_path("lms/views.py", [tmp_path / "other", tmp_path / "site"]) == "site/lms/views.py"
    )
    assert github_path("missing.py", [tmp_path]) == "missing.py"


# -- the audit's hook --------------------------------------------------------------------------


def test_project_budgets_none_without_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert project_budgets() is None
    with pytest.raises(ConfigurationError, match="^No perf-budgets.toml found"):
        project_budgets(required=True)


def test_audit_applies_the_project_budgets(project: Path) -> None:
    with override_settings(ROOT_URLCONF="tests.test_urlconf"):  # has api/courses/…
        judged = apply_audit_budgets(read_run(project / "before.json"))
    assert [(e.key, e.budget.status) for e in judged.endpoints] == [
        ("GET api/courses/", "exceeded"),
        ("GET api/courses/<int:pk>/", "ok"),
    ]


def test_audit_notes_a_budget_file_it_cannot_read(project: Path) -> None:
    (project / BUDGET_FILE).write_text("queries = 1\n")
    run = read_run(project / "before.json")
    judged = apply_audit_budgets(run)
    assert judged.endpoints == run.endpoints
    assert judged.notes[-1].startswith(
        "Budgets not judged: perf-budgets.toml:1: unknown key 'queries'"
    )


def test_audit_fail_on_budget_needs_a_budget_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perftoolkit.audit.orchestrator import AuditOptions, run_audit

    monkeypatch.chdir(tmp_path)
    profile = Path(__file__).parents[1] / "auditsite" / "loadtests" / "site.py"
    with pytest.raises(ConfigurationError, match="^No perf-budgets.toml found"):
        run_audit(
            AuditOptions(
                profiles=(str(profile),), out_dir=tmp_path, cwd=tmp_path, fail_on=("budget",)
            )
        )


UNMEASURED = (
    "2 requests of this run were not measured: perftoolkit's own capture failed on them (the "
    "server's log has an ERROR 'perftoolkit: internal error in <place>' line with the traceback; "
    "the report's notes name the endpoints). "
)


def test_check_of_a_run_with_unmeasured_requests_cannot_pass(project: Path) -> None:
    partial = run_of(endpoint("api/courses/", 4), endpoint("api/courses/<int:pk>/", 2))
    write_run(partial.with_changes(unmeasured_requests=2), project / "partial.json")
    out = io.StringIO()

    with pytest.raises(UnmeasuredRequests) as info:
        run_budget_command("check", BudgetOptions(report=Path("partial.json")), stdout=out)

    assert info.value.exit_code == 1
    assert str(info.value) == UNMEASURED + (
        "The check above judged the measured requests only, so it cannot pass: fix or report "
        "that failure, then record the requests again."
    )
    assert out.getvalue() == "All 2 budgeted endpoints within budget (perf-budgets.toml)\n"
    # Over budget on what was measured is still a real failure: exit 3 first.
    over = run_of(endpoint("api/courses/", 26), endpoint("api/courses/<int:pk>/", 2))
    write_run(over.with_changes(unmeasured_requests=2), project / "over.json")
    assert _run("check", report=Path("over.json"))[0] == 3


@pytest.mark.parametrize("action", ["record", "update"])
def test_budgets_are_not_written_from_unmeasured_requests(project: Path, action: str) -> None:
    partial = run_of(endpoint("api/courses/", 1), endpoint("api/courses/<int:pk>/", 1))
    write_run(partial.with_changes(unmeasured_requests=2), project / "partial.json")

    with pytest.raises(UnmeasuredRequests) as info:
        run_budget_command(action, BudgetOptions(report=Path("partial.json")), stdout=io.StringIO())

    assert str(info.value) == UNMEASURED + (
        "Budgets are not written from a partial measurement: fix or report that failure, then "
        "record the requests again."
    )
    assert (project / BUDGET_FILE).read_text() == BUDGETS

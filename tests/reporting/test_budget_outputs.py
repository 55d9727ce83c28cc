from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from perftoolkit.core.budgets.ratchet import update
from perftoolkit.core.budgets.rules import BudgetResult, Budgets, EndpointBudget, Limits, evaluate
from perftoolkit.core.events import CallSite, QueryEvent
from perftoolkit.reporting.budget_text import block_failure, group_queries, row_details
from perftoolkit.reporting.console import make_console, render_budget_result, render_budget_update
from perftoolkit.reporting.github import (
    budget_annotations,
    error_command,
    escape_data,
    escape_property,
)
from perftoolkit.reporting.junit import budget_result_to_junit
from perftoolkit.reporting.markdown import budget_result_to_markdown
from tests.support.budget_runs import endpoint, nplusone, run_of


def _result() -> BudgetResult:
    run = run_of(
        endpoint("api/courses/", 26),
        endpoint("api/courses/<int:pk>/", 3),
        endpoint("api/unlisted/", 9),
        findings=(nplusone("api/courses/"),),
    )
    budgets = Budgets(
        endpoints=(
            EndpointBudget("GET", "api/courses/", Limits(queries=4), line=7),
            EndpointBudget("GET", "api/courses/<int:pk>/", Limits(queries=3), line=10),
            EndpointBudget("POST", "api/courses/", Limits(queries=5), line=13),
        ),
        source="perf-budgets.toml",
    )
    return evaluate(run, budgets)


# -- JUnit XML ----------------------------------------------------------------------------------


def test_junit_is_valid_with_one_testcase_per_endpoint() -> None:
    root = ET.fromstring(budget_result_to_junit(_result()))
    assert root.tag == "testsuites"
    (suite,) = root
    assert suite.tag == "testsuite"
    for element in (root, suite):
        assert {k: element.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
            "tests": "4",
            "failures": "1",
            "errors": "0",
            "skipped": "2",
        }
        assert float(element.get("time", "x")) == 0.0
    cases = list(suite)
    assert all(c.tag == "testcase" for c in cases)
    assert all(set(c.attrib) == {"classname", "name", "time"} for c in cases)
    assert [c.get("name") for c in cases] == [
        "GET api/courses/",
        "GET api/courses/<int:pk>/",
        "GET api/unlisted/",
        "POST api/courses/",
    ]
    assert [[child.tag for child in c] for c in cases] == [
        ["failure"],
        [],
        ["skipped"],
        ["skipped"],
    ]
    failure = cases[0][0]
    assert failure.get("type") == "budget_exceeded"
    assert failure.get("message") == "GET api/courses/ is over budget: queries 26 > 4 (+22)."
    assert failure.text is not None
    assert 'fix: .select_related("instructor")' in failure.text
    assert cases[3][0].get("message") == "no request to this endpoint in the report"


def test_junit_all_within_budget() -> None:
    run = run_of(endpoint("api/a/", 1))
    xml = budget_result_to_junit(evaluate(run, Budgets(defaults=Limits(queries=2))))
    assert xml.startswith("<?xml version='1.0' encoding='utf-8'?>\n<testsuites")
    root = ET.fromstring(xml)
    assert root.get("failures") == "0"
    assert [c.get("name") for c in root.iter("testcase")] == ["GET api/a/"]


# -- GitHub annotations -------------------------------------------------------------------------


def test_escape_follows_github_rules() -> None:
    assert escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_error_command_format() -> None:
    assert error_command("x\ny", file="lms/a,b.py", line=3, title="Query budget: GET a/") == (
        "::error file=lms/a%2Cb.py,line=3,title=Query budget%3A GET a/::x%0Ay"
    )
    assert error_command("m", file=None, line=None, title="t") == "::error title=t::m"


def test_budget_annotations_point_at_the_finding_callsite() -> None:
    commands = budget_annotations(
        _result(), path_for=lambda f: f"sample_project/{f}", budget_file="perf-budgets.toml"
    )
    assert commands == [
        "::error file=sample_project/lms/serializers.py,line=40,title=Query budget%3A GET api/courses/"
        '::GET api/courses/ is over budget: queries 26 > 4 (+22). Fix: .select_related("instructor") '
        "(n_plus_one: N+1: Course.instructor runs once per Course row (20 queries).)"
    ]


def test_budget_annotations_without_a_finding_point_at_the_budget_line() -> None:
    run = run_of(endpoint("api/a/", 9))
    result = evaluate(
        run, Budgets(endpoints=(EndpointBudget("GET", "api/a/", Limits(queries=4), line=12),))
    )
    assert budget_annotations(result, path_for=str, budget_file="ci/perf-budgets.toml") == [
        "::error file=ci/perf-budgets.toml,line=12,title=Query budget%3A GET api/a/"
        "::GET api/a/ is over budget: queries 9 > 4 (+5)."
    ]


# -- Markdown, terminal, plain text -------------------------------------------------------------


def test_markdown_table_of_failures_and_folded_passes() -> None:
    assert budget_result_to_markdown(_result()) == (
        "## perftoolkit budgets: ❌ 1 of 2 endpoints over budget\n"
        "\n"
        "Budget file: `perf-budgets.toml`\n"
        "\n"
        "| endpoint | limit | budget | measured | delta | top finding | fix |\n"
        "|---|---|---:|---:|---:|---|---|\n"
        "| `GET api/courses/` | queries | 4 | 26 | **+22** | n_plus_one ×20 at `lms/serializers.py:40` "
        '| `.select_related("instructor")` |\n'
        "\n"
        "<details><summary>1 within budget</summary>\n"
        "\n"
        "| endpoint | queries (max) | budget |\n"
        "|---|---:|---:|\n"
        "| `GET api/courses/<int:pk>/` | 3 | 3 |\n"
        "\n"
        "</details>\n"
        "\n"
        "Not exercised (not judged): `POST api/courses/`\n"
    )


def test_console_table_names_endpoint_delta_and_fix() -> None:
    out = io.StringIO()
    render_budget_result(_result(), make_console(out, width=200))
    text = out.getvalue()
    assert "Over budget (perf-budgets.toml)" in text
    row = next(line for line in text.splitlines() if "GET api/courses/ " in line)
    for cell in (
        "queries",
        " 4 ",
        " 26 ",
        "+22",
        "n_plus_one instructor ×20 at lms/serializers.py:40",
        '.select_related("instructor")',
    ):
        assert cell in row
    assert "1 of 2 budgeted endpoints over budget (perf-budgets.toml)" in text
    assert "Not exercised by this report (not judged): POST api/courses/" in text


def test_console_all_within_budget_is_one_line() -> None:
    out = io.StringIO()
    run = run_of(endpoint("api/a/", 1))
    render_budget_result(
        evaluate(run, Budgets(defaults=Limits(queries=2), source="b.toml")), make_console(out)
    )
    assert out.getvalue() == "All 1 budgeted endpoint within budget (b.toml)\n"


def test_console_update_diff() -> None:
    run = run_of(endpoint("api/a/", 3), endpoint("api/b/", 9), endpoint("api/c/", 1))
    budgets = Budgets(
        endpoints=(
            EndpointBudget("GET", "api/a/", Limits(queries=4)),
            EndpointBudget("GET", "api/b/", Limits(queries=5)),
        )
    )
    out = io.StringIO()
    render_budget_update(
        update(run, budgets), make_console(out, width=200), path="perf-budgets.toml", wrote=True
    )
    lines = out.getvalue().splitlines()
    assert any("GET api/a/" in line and "lowered" in line for line in lines)
    assert any("GET api/b/" in line and "kept: over budget" in line for line in lines)
    assert any("GET api/c/" in line and "added" in line for line in lines)
    assert lines[-1] == "wrote perf-budgets.toml: 1 added, 1 lowered, 1 kept"


def test_row_details() -> None:
    row = _result().rows[0]
    assert row_details(row, "perf-budgets.toml") == (
        "GET api/courses/ is over budget: queries 26 > 4 (+22). (budget: perf-budgets.toml:7)\n"
        "  queries: measured 26, budget 4 (+22)  <- over budget\n"
        "Findings:\n"
        "  - n_plus_one at lms/serializers.py:40: N+1: Course.instructor runs once per Course row (20 queries).\n"
        '    fix: .select_related("instructor")'
    )


def _query(fp: str, sql: str, line: int | None) -> QueryEvent:
    site = CallSite("app/views.py", line, "view") if line else None
    return QueryEvent(sql=sql, fingerprint=fp, ms=0.1, callsite=site)


def test_group_queries_by_fingerprint_most_repeated_first() -> None:
    queries = [
        _query("a", "SELECT 1", 3),
        _query("b", "SELECT 2", 5),
        _query("b", "SELECT 2", 5),
        _query("b", "SELECT 2", 6),
    ]
    groups = group_queries(queries)
    assert [(g.fingerprint, g.count, [str(c) for c in g.callsites]) for g in groups] == [
        ("b", 3, ["app/views.py:5", "app/views.py:6"]),
        ("a", 1, ["app/views.py:3"]),
    ]


def test_block_failure_message() -> None:
    long_sql = "SELECT " + ", ".join(f'"t"."c{i}"' for i in range(40)) + ' FROM "t"'
    queries = [
        _query("a", long_sql, 3),
        _query("b", "SELECT 2", None),
        _query("b", "SELECT 2", None),
    ]
    text = block_failure(
        what="tests/test_x.py::test_list",
        limits={"queries": 2, "duplicates": None},
        measured={"queries": 3, "duplicates": 1},
        queries=queries,
        findings=(nplusone("api/a/"),),
    )
    lines = text.splitlines()
    assert lines[0] == "tests/test_x.py::test_list is over its query budget: queries 3 > 2 (+1)."
    assert lines[1] == "3 queries, 2 distinct (count × statement, where):"
    assert lines[2] == "    2 × SELECT 2"
    assert lines[3].startswith('    1 × SELECT "t"."c0"')
    assert lines[3].endswith("…")
    assert len(lines[3]) == 8 + 120
    assert lines[4] == "        at app/views.py:3"
    assert lines[5:] == [
        "Findings:",
        "  - n_plus_one at lms/serializers.py:40: N+1: Course.instructor runs once per Course row (20 queries).",
        '    fix: .select_related("instructor")',
        "(add -v to see whole statements)",
    ]
    verbose = block_failure(
        what="x",
        limits={"queries": 2},
        measured={"queries": 3},
        queries=queries,
        findings=(),
        verbose=True,
    )
    assert long_sql in verbose
    assert "add -v" not in verbose

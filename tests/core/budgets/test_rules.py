from __future__ import annotations

from perftoolkit.core.budgets.rules import (
    Budgets,
    EndpointBudget,
    Limits,
    apply_budgets,
    describe_row,
    evaluate,
    measured,
    top_findings,
)
from perftoolkit.core.findings import Finding, Fix
from perftoolkit.core.runs.run import BudgetStatus
from tests.support.budget_runs import endpoint, nplusone, run_of


def _budgets(*items: EndpointBudget, **kwargs: object) -> Budgets:
    return Budgets(endpoints=items, source="perf-budgets.toml", **kwargs)  # type: ignore[arg-type]


def test_limits_items_keeps_set_limits_in_order() -> None:
    assert Limits(latency_ms_p95=90.0, queries=4).items() == {"queries": 4, "latency_ms_p95": 90.0}


def test_limits_over_fills_unset_from_defaults() -> None:
    merged = Limits(queries=4).over(Limits(queries=10, duplicates=0))
    assert merged == Limits(queries=4, duplicates=0)


def test_limits_round_trip_dict() -> None:
    limits = Limits(queries=4, db_ms_p95=12.5)
    assert Limits.from_dict(limits.to_dict()) == limits


def test_evaluate_judges_the_worst_request() -> None:
    run = run_of(endpoint("api/courses/", 26), endpoint("api/courses/<int:pk>/", 3))
    budgets = _budgets(
        EndpointBudget("GET", "api/courses/", Limits(queries=4), line=9),
        EndpointBudget("GET", "api/courses/<int:pk>/", Limits(queries=3)),
    )
    result = evaluate(run, budgets)
    courses = result.row("GET", "api/courses/")
    assert courses is not None
    assert courses.status == "exceeded"
    assert courses.exceeded == ("queries",)
    assert courses.line == 9
    check = courses.check("queries")
    assert check is not None
    assert (check.budget, check.measured, check.delta) == (4, 26, 22)
    detail = result.row("GET", "api/courses/<int:pk>/")
    assert detail is not None
    assert detail.status == "ok"
    assert [r.key for r in result.failed] == ["GET api/courses/"]
    assert result.passed is False


def test_evaluate_budget_equal_to_measured_passes() -> None:
    result = evaluate(
        run_of(endpoint("api/a/", 4)), _budgets(EndpointBudget("GET", "api/a/", Limits(queries=4)))
    )
    assert result.passed is True
    assert [r.status for r in result.rows] == ["ok"]


def test_evaluate_every_limit() -> None:
    run = run_of(endpoint("api/a/", 4, duplicates=2, db_ms_p95=30.0, latency_p95=200.0))
    limits = Limits(queries=5, duplicates=0, db_ms_p95=25.0, latency_ms_p95=250.0)
    row = evaluate(run, _budgets(EndpointBudget("GET", "api/a/", limits))).rows[0]
    assert row.exceeded == ("duplicates", "db_ms_p95")
    assert row.limits == {"queries": 5, "duplicates": 0, "db_ms_p95": 25.0, "latency_ms_p95": 250.0}


def test_evaluate_defaults_apply_to_listed_and_unlisted_endpoints() -> None:
    run = run_of(endpoint("api/a/", 12), endpoint("api/b/", 3))
    budgets = _budgets(EndpointBudget("GET", "api/b/", Limits()), defaults=Limits(queries=10))
    result = evaluate(run, budgets)
    a, b = result.rows
    assert (a.listed, a.status, a.limits) == (False, "exceeded", {"queries": 10})
    assert (b.listed, b.status, b.limits) == (True, "ok", {"queries": 10})


def test_evaluate_unlisted_ignore_without_defaults_is_not_judged() -> None:
    result = evaluate(run_of(endpoint("api/a/", 50)), _budgets())
    assert [r.status for r in result.rows] == ["none"]
    assert result.judged == ()
    assert result.passed is True


def test_evaluate_unlisted_fail() -> None:
    result = evaluate(run_of(endpoint("api/a/", 1)), _budgets(unlisted="fail"))
    row = result.rows[0]
    assert row.status == "exceeded"
    assert row.exceeded == ("unlisted",)
    assert describe_row(row) == (
        "GET api/a/ is over budget: no budget for it in the budget file, which says unlisted = 'fail'."
    )


def test_evaluate_lists_budgets_the_run_did_not_exercise() -> None:
    result = evaluate(
        run_of(endpoint("api/a/", 1)),
        _budgets(
            EndpointBudget("GET", "api/a/", Limits(queries=1)),
            EndpointBudget("POST", "api/a/", Limits(queries=1)),
        ),
    )
    assert [b.key for b in result.not_exercised] == ["POST api/a/"]


def test_evaluate_locust_only_endpoint_has_no_query_figure() -> None:
    run = run_of(endpoint("api/a/", None, latency_p95=80.0))
    limits = Limits(queries=4, latency_ms_p95=50.0)
    row = evaluate(run, _budgets(EndpointBudget("GET", "api/a/", limits))).rows[0]
    assert row.exceeded == ("latency_ms_p95",)
    queries = row.check("queries")
    assert queries is not None
    assert (queries.measured, queries.exceeded, queries.delta) == (None, False, None)


def test_measured_falls_back_to_median_duplicates_of_older_reports() -> None:
    from dataclasses import replace

    old = replace(endpoint("api/a/", 5, duplicates=2), duplicates_max=None)
    assert measured(old)["duplicates"] == 2.0


def test_top_findings_fixable_first_then_biggest() -> None:
    small = nplusone("api/a/", repeats=5)
    big = Finding(
        kind="n_plus_one",
        method="GET",
        route="api/a/",
        message="big",
        repeats=30,
        field="tags",
        fix=Fix("prefetch_related", '.prefetch_related("tags")'),
    )
    unfixable = Finding(
        kind="duplicate_query", method="GET", route="api/a/", message="dup", repeats=99
    )
    other = nplusone("api/b/")
    run = run_of(endpoint("api/a/", 40), findings=(small, big, unfixable, other))
    assert [f.message for f in top_findings(run, "GET", "api/a/")] == ["big", small.message, "dup"]


def test_describe_row() -> None:
    run = run_of(endpoint("api/a/", 26, db_ms_p95=12.25))
    budgets = _budgets(EndpointBudget("GET", "api/a/", Limits(queries=4, db_ms_p95=10.0)))
    row = evaluate(run, budgets).rows[0]
    assert describe_row(row) == (
        "GET api/a/ is over budget: queries 26 > 4 (+22); db_ms_p95 12.2 > 10 (+2.2)."
    )


def test_apply_budgets_fills_endpoint_budget_and_adds_findings() -> None:
    finding = nplusone("api/courses/")
    run = run_of(endpoint("api/courses/", 26), endpoint("api/b/", 2), findings=(finding,))
    budgets = _budgets(
        EndpointBudget("GET", "api/courses/", Limits(queries=4)),
        EndpointBudget("GET", "api/b/", Limits(queries=3)),
    )
    judged = apply_budgets(run, evaluate(run, budgets))
    courses = judged.endpoint("GET", "api/courses/")
    assert courses is not None
    assert courses.budget == BudgetStatus(
        limits={"queries": 4}, status="exceeded", exceeded=("queries",)
    )
    other = judged.endpoint("GET", "api/b/")
    assert other is not None
    assert other.budget == BudgetStatus(limits={"queries": 3}, status="ok", exceeded=())
    exceeded = [f for f in judged.findings if f.kind == "budget_exceeded"]
    assert len(exceeded) == 1
    assert exceeded[0].message == "GET api/courses/ is over budget: queries 26 > 4 (+22)."
    assert exceeded[0].fix == finding.fix
    assert exceeded[0].callsite == finding.callsite
    assert courses.finding_ids == (exceeded[0].id, finding.id)


def test_apply_budgets_is_idempotent() -> None:
    run = run_of(endpoint("api/courses/", 26), findings=(nplusone("api/courses/"),))
    budgets = _budgets(EndpointBudget("GET", "api/courses/", Limits(queries=4)))
    once = apply_budgets(run, evaluate(run, budgets))
    twice = apply_budgets(once, evaluate(once, budgets))
    assert twice == once


def test_apply_budgets_clears_old_failures_once_within_budget() -> None:
    run = run_of(endpoint("api/a/", 26))
    failed = apply_budgets(
        run, evaluate(run, _budgets(EndpointBudget("GET", "api/a/", Limits(queries=4))))
    )
    fixed = apply_budgets(
        failed, evaluate(failed, _budgets(EndpointBudget("GET", "api/a/", Limits(queries=30))))
    )
    assert [f.kind for f in fixed.findings] == []
    assert fixed.endpoints[0].finding_ids == ()
    assert fixed.endpoints[0].budget.status == "ok"


def test_budgets_with_endpoint_replaces_in_place() -> None:
    budgets = _budgets(
        EndpointBudget("GET", "api/a/", Limits(queries=1), line=3),
        EndpointBudget("GET", "api/b/", Limits(queries=2), line=6),
    )
    updated = budgets.with_endpoint(EndpointBudget("GET", "api/a/", Limits(queries=9)))
    assert [(b.key, b.limits.queries, b.line) for b in updated.endpoints] == [
        ("GET api/a/", 9, 3),
        ("GET api/b/", 2, 6),
    ]
    added = budgets.with_endpoint(EndpointBudget("PUT", "api/a/", Limits(queries=1)))
    assert [b.key for b in added.endpoints] == ["GET api/a/", "GET api/b/", "PUT api/a/"]


def test_budgets_round_trip_dict() -> None:
    budgets = Budgets(
        defaults=Limits(queries=10),
        unlisted="fail",
        endpoints=(EndpointBudget("GET", "api/a/", Limits(queries=1, latency_ms_p95=80.0)),),
    )
    assert Budgets.from_dict(budgets.to_dict()) == budgets


def test_evaluate_unmatched_requests_are_judged_only_when_listed() -> None:
    run = run_of(endpoint("<unmatched>", 9))
    unlisted = evaluate(run, _budgets(unlisted="fail", defaults=Limits(queries=1)))
    assert [(r.status, r.exceeded) for r in unlisted.rows] == [("none", ())]
    listed = evaluate(run, _budgets(EndpointBudget("GET", "<unmatched>", Limits(queries=2))))
    assert [(r.status, r.exceeded) for r in listed.rows] == [("exceeded", ("queries",))]

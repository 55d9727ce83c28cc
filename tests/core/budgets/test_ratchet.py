from __future__ import annotations

import pytest

from perftoolkit.core.budgets.ratchet import Headroom, record, update
from perftoolkit.core.budgets.rules import Budgets, EndpointBudget, Limits
from tests.support.budget_runs import endpoint, run_of


def _changes(result: object) -> list[tuple[str, str, object, object, str]]:
    return [(c.key, c.limit, c.old, c.new, c.kind) for c in result.changes]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, Headroom()),
        ("", Headroom()),
        ("2", Headroom(2.0)),
        (" 1.5 ", Headroom(1.5)),
        ("20%", Headroom(20.0, percent=True)),
        ("0%", Headroom(0.0, percent=True)),
    ],
)
def test_headroom_parse(text: str | None, expected: Headroom) -> None:
    assert Headroom.parse(text) == expected


@pytest.mark.parametrize("text", ["x", "-1", "nan", "inf", "%", "2%%"])
def test_headroom_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="a number of queries"):
        Headroom.parse(text)


def test_headroom_apply_rounds_up() -> None:
    assert Headroom(20.0, percent=True).apply("queries", 4) == 5  # 4.8 → 5
    assert Headroom(10.0, percent=True).apply("queries", 10) == 11
    assert Headroom(2.0).apply("duplicates", 0) == 2
    assert Headroom().apply("queries", 7) == 7
    assert Headroom(10.0, percent=True).apply("db_ms_p95", 12.34) == 13.6  # 13.574 → 13.6
    assert Headroom().apply("latency_ms_p95", 80.0) == 80.0


def test_record_writes_measured_queries_for_every_endpoint() -> None:
    run = run_of(endpoint("api/a/", 4), endpoint("api/b/", 12))
    result = record(run, None)
    assert [(b.key, b.limits) for b in result.budgets.endpoints] == [
        ("GET api/a/", Limits(queries=4)),
        ("GET api/b/", Limits(queries=12)),
    ]
    assert _changes(result) == [
        ("GET api/a/", "queries", None, 4, "added"),
        ("GET api/b/", "queries", None, 12, "added"),
    ]


def test_record_with_headroom() -> None:
    result = record(run_of(endpoint("api/a/", 10)), None, headroom=Headroom(2.0))
    assert result.budgets.endpoints[0].limits == Limits(queries=12)


def test_record_remeasures_limits_the_table_has_and_keeps_the_rest() -> None:
    run = run_of(endpoint("api/a/", 6, duplicates=1, db_ms_p95=3.0, latency_p95=40.0))
    budgets = Budgets(
        defaults=Limits(queries=50),
        unlisted="fail",
        endpoints=(
            EndpointBudget("GET", "api/a/", Limits(queries=4, duplicates=0), line=5),
            EndpointBudget("GET", "api/gone/", Limits(queries=1), line=9),
        ),
    )
    result = record(run, budgets)
    assert result.budgets.defaults == Limits(queries=50)
    assert result.budgets.unlisted == "fail"
    assert [(b.key, b.limits, b.line) for b in result.budgets.endpoints] == [
        ("GET api/a/", Limits(queries=6, duplicates=1), 5),
        ("GET api/gone/", Limits(queries=1), 9),
    ]
    assert _changes(result) == [
        ("GET api/a/", "queries", 4, 6, "raised"),
        ("GET api/a/", "duplicates", 0, 1, "raised"),
    ]


def test_record_skips_endpoints_without_query_figures() -> None:
    result = record(run_of(endpoint("api/a/", None)), None)
    assert result.budgets.endpoints == ()
    assert result.changes == ()


def test_update_lowers_beaten_budgets() -> None:
    run = run_of(endpoint("api/a/", 3), endpoint("api/b/", 5))
    budgets = Budgets(
        endpoints=(
            EndpointBudget("GET", "api/a/", Limits(queries=4)),
            EndpointBudget("GET", "api/b/", Limits(queries=5)),
        )
    )
    result = update(run, budgets)
    assert [b.limits.queries for b in result.budgets.endpoints] == [3, 5]
    assert _changes(result) == [
        ("GET api/a/", "queries", 4, 3, "lowered"),
        ("GET api/b/", "queries", 5, 5, "same"),
    ]
    assert [c.key for c in result.changed] == ["GET api/a/"]


def test_update_never_raises_without_allow_increase() -> None:
    run = run_of(endpoint("api/a/", 9))
    budgets = Budgets(endpoints=(EndpointBudget("GET", "api/a/", Limits(queries=4)),))
    kept = update(run, budgets)
    assert kept.budgets == budgets
    assert _changes(kept) == [("GET api/a/", "queries", 4, 4, "kept")]
    assert [c.measured for c in kept.kept_over] == [9]
    raised = update(run, budgets, allow_increase=True)
    assert raised.budgets.endpoints[0].limits == Limits(queries=9)
    assert _changes(raised) == [("GET api/a/", "queries", 4, 9, "raised")]


def test_update_with_headroom_lowers_only_below_measured_plus_headroom() -> None:
    run = run_of(endpoint("api/a/", 3), endpoint("api/b/", 3))
    budgets = Budgets(
        endpoints=(
            EndpointBudget("GET", "api/a/", Limits(queries=10)),
            EndpointBudget("GET", "api/b/", Limits(queries=4)),
        )
    )
    result = update(run, budgets, headroom=Headroom(2.0))
    assert [b.limits.queries for b in result.budgets.endpoints] == [5, 4]


def test_update_adds_endpoints_without_a_table() -> None:
    run = run_of(endpoint("api/new/", 2))
    result = update(run, Budgets())
    assert [(b.key, b.limits) for b in result.budgets.endpoints] == [
        ("GET api/new/", Limits(queries=2))
    ]
    assert _changes(result) == [("GET api/new/", "queries", None, 2, "added")]


def test_update_leaves_defaults_in_charge_when_they_still_fit() -> None:
    run = run_of(endpoint("api/a/", 10), endpoint("api/b/", 12), endpoint("api/c/", 2))
    budgets = Budgets(defaults=Limits(queries=10))
    result = update(run, budgets)
    # a: exactly the default; b: over it, not raised; c: beats it, gets its own table.
    assert [(b.key, b.limits) for b in result.budgets.endpoints] == [
        ("GET api/c/", Limits(queries=2))
    ]
    assert _changes(result) == [
        ("GET api/a/", "queries", 10, 10, "same"),
        ("GET api/b/", "queries", 10, 10, "kept"),
        ("GET api/c/", "queries", 10, 2, "lowered"),
    ]


def test_update_ratchets_time_limits_in_tenths_of_a_millisecond() -> None:
    run = run_of(endpoint("api/a/", 3, db_ms_p95=4.04))
    budgets = Budgets(
        endpoints=(EndpointBudget("GET", "api/a/", Limits(queries=3, db_ms_p95=10.0)),)
    )
    result = update(run, budgets)
    assert result.budgets.endpoints[0].limits == Limits(queries=3, db_ms_p95=4.1)


def test_record_and_update_leave_unmatched_requests_out() -> None:
    run = run_of(endpoint("<unmatched>", 3), endpoint("api/a/", 1))
    assert [b.key for b in record(run, None).budgets.endpoints] == ["GET api/a/"]
    assert [b.key for b in update(run, Budgets()).budgets.endpoints] == ["GET api/a/"]

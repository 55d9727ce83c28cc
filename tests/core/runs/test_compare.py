from __future__ import annotations

from dataclasses import replace

import pytest

from perftoolkit.core.latency import NOT_RECORDED, Drift, Histogram, LatencyVerdict
from perftoolkit.core.runs.compare import (
    Comparison,
    Delta,
    EndpointDelta,
    compare,
    regression_reasons,
)
from perftoolkit.core.runs.paths import QueryVerdict
from perftoolkit.core.runs.run import AuditRun, BudgetStatus
from tests.support.runs import (
    CAMPAIGN_DUPLICATE,
    COURSES,
    Endpoint,
    after_run,
    before_run,
    make_run,
    nplusone,
)


def _one(
    before: Endpoint, after: Endpoint, *, tolerance: float = 0.10
) -> tuple[Comparison, EndpointDelta]:
    comparison = compare(make_run("b", [before]), make_run("a", [after]), tolerance=tolerance)
    (endpoint,) = comparison.endpoints
    return comparison, endpoint


def test_delta_change_and_ratio() -> None:
    assert Delta(26, 4).change == -22
    assert Delta(26, 4).to_dict() == {"before": 26, "after": 4, "change": -22, "ratio": -0.8462}
    assert Delta(0, 3).ratio is None
    assert Delta(None, 3).to_dict() == {"before": None, "after": 3, "change": None, "ratio": None}


def test_compare_endpoint_deltas_exact() -> None:
    before = Endpoint(
        "GET",
        "api/courses/",
        [26, 28],
        4,
        (210.0, 640.0, 980.0),
        duplicates=2,
        cache=(2, 1),
        budget=BudgetStatus({"queries": 6}, "exceeded", ("queries",)),
        findings=[COURSES],
    )
    after = Endpoint(
        "GET",
        "api/courses/",
        [4],
        4,
        (70.0, 160.0, 240.0),
        cache=(2, 2),
        budget=BudgetStatus({"queries": 6}, "ok"),
    )
    comparison, endpoint = _one(before, after)

    assert endpoint.key == "GET api/courses/"
    assert endpoint.to_dict() == {
        "method": "GET",
        "route": "api/courses/",
        "requests": {"before": 4, "after": 4, "change": 0, "ratio": 0.0},
        "queries": {
            "min": {"before": 26, "after": 4, "change": -22, "ratio": -0.8462},
            "median": {"before": 27.0, "after": 4.0, "change": -23.0, "ratio": -0.8519},
            "max": {"before": 28, "after": 4, "change": -24, "ratio": -0.8571},
        },
        "duplicates": {"before": 2.0, "after": 0.0, "change": -2.0, "ratio": -1.0},
        "db_ms": {
            "median": {"before": 7.0, "after": 1.25, "change": -5.75, "ratio": -0.8214},
            "p95": {"before": 7.25, "after": 1.25, "change": -6.0, "ratio": -0.8276},
        },
        "latency_ms": {
            "p50": {"before": 210.0, "after": 70.0, "change": -140.0, "ratio": -0.6667},
            "p95": {"before": 640.0, "after": 160.0, "change": -480.0, "ratio": -0.75},
            "p99": {"before": 980.0, "after": 240.0, "change": -740.0, "ratio": -0.7551},
        },
        "cache_hit_ratio": {"before": 0.5, "after": 1.0, "change": 0.5, "ratio": 1.0},
        "findings": {"before": 1, "after": 0, "change": -1, "ratio": -1.0},
        "budget": {"before": "exceeded", "after": "ok"},
        "queries_verdict": "fewer",
        "latency": {
            "status": "not_judged",
            "source": "server",
            "requests": {"before": 4, "after": 4},
            "median_ms": {"before": 36.0, "after": 14.1},
            "p_value": None,
            "reason": "4 and 4 timed requests; at least 10 a side are needed",
        },
        "regressions": [],
    }
    assert comparison.regressions == ()


def test_compare_endpoints_only_in_one_run() -> None:
    shared = Endpoint("GET", "api/a/", [1], 1, (1.0, 2.0, 3.0))
    comparison = compare(
        make_run(
            "b", [shared, Endpoint("GET", "api/old/", [2], 1), Endpoint("POST", "api/a/", [1], 1)]
        ),
        make_run("a", [shared, Endpoint("GET", "api/new/", [3], 1)]),
    )

    assert [e.key for e in comparison.endpoints] == ["GET api/a/"]
    assert [e.key for e in comparison.only_before] == ["POST api/a/", "GET api/old/"]
    assert [e.key for e in comparison.only_after] == ["GET api/new/"]
    assert comparison.totals.endpoints == Delta(3, 2)


def test_compare_findings_fixed_new_remaining() -> None:
    comparison = compare(before_run(), after_run())

    assert [(f.route, f.kind) for f in comparison.findings_fixed] == [
        ("api/auth/profile/", "write_on_read"),
        ("api/courses/", "n_plus_one"),
        ("api/courses/<int:pk>/", "n_plus_one"),
        ("api/instructor/courses/", "n_plus_one"),
    ]
    assert [f.id for f in comparison.findings_remaining] == [CAMPAIGN_DUPLICATE.id]
    (new,) = comparison.findings_new
    assert (new.route, new.kind, new.callsite) == (
        "api/projects/<int:pk>/tasks/",
        "n_plus_one",
        "projects/serializers.py:77",
    )
    fixed = comparison.findings_fixed[1]
    assert (fixed.id, fixed.repeats) == (COURSES.id, Delta(25, None))
    assert comparison.findings_remaining[0].repeats == Delta(3, 3)
    assert new.repeats == Delta(None, 3)


def test_compare_finding_matched_by_id_not_by_message() -> None:
    old = nplusone("GET", "api/x/", model="m.M", path="a", repeats=10, file="f.py", line=5)
    new = nplusone("GET", "api/x/", model="m.M", path="a", repeats=4, file="f.py", line=5)
    # An edit above the line moves it; another file is another finding.
    moved = nplusone("GET", "api/x/", model="m.M", path="a", repeats=4, file="f.py", line=9)
    elsewhere = nplusone("GET", "api/x/", model="m.M", path="a", repeats=4, file="g.py", line=5)

    same = compare(
        make_run("b", [Endpoint("GET", "api/x/", [10], 1, findings=[old])]),
        make_run("a", [Endpoint("GET", "api/x/", [4], 1, findings=[new])]),
    )
    shifted = compare(
        make_run("b", [Endpoint("GET", "api/x/", [10], 1, findings=[old])]),
        make_run("a", [Endpoint("GET", "api/x/", [4], 1, findings=[moved])]),
    )
    relocated = compare(
        make_run("b", [Endpoint("GET", "api/x/", [10], 1, findings=[old])]),
        make_run("a", [Endpoint("GET", "api/x/", [4], 1, findings=[elsewhere])]),
    )

    assert [f.repeats for f in same.findings_remaining] == [Delta(10, 4)]
    assert [f.repeats for f in shifted.findings_remaining] == [Delta(10, 4)]
    assert (len(relocated.findings_fixed), len(relocated.findings_new)) == (1, 1)


def test_compare_regression_when_queries_max_rises() -> None:
    comparison, endpoint = _one(
        Endpoint("GET", "api/t/", [4], 2, (60.0, 150.0, 210.0)),
        Endpoint("GET", "api/t/", [4, 5], 2, (60.0, 150.0, 210.0)),
    )

    assert endpoint.regressions == (
        "queries.max rose from 4 to 5 on requests that ran the same statements",
    )
    assert comparison.to_dict()["regressions"] == [
        {
            "method": "GET",
            "route": "api/t/",
            "reasons": ["queries.max rose from 4 to 5 on requests that ran the same statements"],
        }
    ]


def test_compare_no_regression_when_only_median_rises() -> None:
    _, endpoint = _one(
        Endpoint("GET", "api/t/", [2, 2, 5], 3, (60.0, 150.0, 210.0)),
        Endpoint("GET", "api/t/", [5, 5, 5], 3, (60.0, 150.0, 210.0)),
    )

    assert endpoint.queries_median == Delta(2, 5)
    assert endpoint.regressions == ()


# Twelve requests a side, each about 10 ms (server-side, as the middleware timed them).
STEADY = [9.0, 10.0, 11.0, 10.0, 12.0, 10.0, 9.0, 11.0, 10.0, 10.0, 11.0, 9.0]


def test_compare_regression_when_server_time_is_slower() -> None:
    _, endpoint = _one(
        Endpoint("GET", "api/t/", [4], 12, (60.0, 150.0, 210.0), durations=STEADY),
        Endpoint("GET", "api/t/", [4], 12, (60.0, 150.0, 210.0), durations=[2 * d for d in STEADY]),
    )

    assert endpoint.latency.status == "slower"
    assert endpoint.latency.source == "server"
    assert endpoint.regressions == (
        "server time slower by more than 10 % at 99 % confidence: median 10 → 20.2 ms (×2.02); "
        "Mann–Whitney U p < 0.0001, 12 and 12 requests",
    )
    assert endpoint.to_dict()["latency"] == {
        "status": "slower",
        "source": "server",
        "requests": {"before": 12, "after": 12},
        "median_ms": {"before": 10.0, "after": 20.2},
        "p_value": 1.462e-05,
        "reason": "",
    }


def test_compare_faster_is_never_a_regression() -> None:
    _, endpoint = _one(
        Endpoint("GET", "api/t/", [4], 12, durations=[2 * d for d in STEADY]),
        Endpoint("GET", "api/t/", [4], 12, durations=STEADY),
    )

    assert (endpoint.latency.status, endpoint.regressions) == ("faster", ())


def test_compare_a_slow_p95_of_a_few_requests_is_no_regression() -> None:
    """The case that started it: the queries fell and two slow requests of 27 lifted the p95
    (50 → 320 ms); the rest of the requests did not move, so the rank test calls it the same."""
    before = [40.0 + (n % 7) for n in range(27)]
    after = [*before[:25], 320.0, 330.0]
    _, endpoint = _one(
        Endpoint("GET", "api/t/", [15], 27, (42.0, 50.0, 52.0), durations=before),
        Endpoint("GET", "api/t/", [3], 27, (42.0, 320.0, 330.0), durations=after),
    )

    assert endpoint.latency_p95 == Delta(50.0, 320.0)
    assert (endpoint.latency.status, endpoint.regressions) == ("same", ())


@pytest.mark.parametrize(("before", "after"), [(9, 40), (40, 9), (5, 5)])
def test_compare_latency_of_too_few_requests_is_not_judged(before: int, after: int) -> None:
    _, endpoint = _one(
        Endpoint("GET", "api/t/", [4], before, durations=[10.0]),
        Endpoint("GET", "api/t/", [4, 5], after, durations=[90.0]),
    )

    assert endpoint.latency.status == "not_judged"
    assert endpoint.latency.reason == (
        f"{before} and {after} timed requests; at least 10 a side are needed"
    )
    assert endpoint.regressions == (
        "queries.max rose from 4 to 5 on requests that ran the same statements",
    )


def test_compare_reports_without_durations_are_not_judged() -> None:
    run = make_run("b", [Endpoint("GET", "api/t/", [4], 30, (60.0, 150.0, 210.0))])
    old = run.with_changes(
        endpoints=tuple(e.__class__.from_dict(e.to_dict()) for e in run.endpoints)
    )

    (endpoint,) = compare(old, old).endpoints

    assert endpoint.latency == NOT_RECORDED
    assert endpoint.regressions == ()


def test_compare_uses_locust_histograms_when_nothing_was_recorded() -> None:
    def load_only(label: str, times: dict[int, int]) -> object:
        run = make_run(label, [Endpoint("GET", "api/t/", [4], 20, (60.0, 150.0, 210.0))])
        assert run.load is not None
        entry = replace(run.load.entries[0], histogram=Histogram.from_counts(times))
        endpoint = replace(run.endpoints[0], durations=Histogram())
        return run.with_changes(endpoints=(endpoint,), load=replace(run.load, entries=(entry,)))

    comparison = compare(
        load_only("b", {50: 10, 55: 10}),  # type: ignore[arg-type]
        load_only("a", {110: 10, 120: 10}),  # type: ignore[arg-type]
    )

    (endpoint,) = comparison.endpoints
    assert (endpoint.latency.source, endpoint.latency.status) == ("client", "slower")
    assert endpoint.regressions[0].startswith("response time (Locust) slower by more than 10 %")


def test_compare_tolerance_is_the_smallest_change_that_counts() -> None:
    pair = (
        Endpoint("GET", "api/t/", [4], 20, durations=[10.0]),
        Endpoint("GET", "api/t/", [4], 20, durations=[13.0]),
    )

    assert _one(*pair, tolerance=0.25)[1].latency.status == "slower"
    assert _one(*pair, tolerance=0.30)[1].latency.status == "same"  # 10 × 1.3 = 13: no more
    assert _one(*pair, tolerance=0.50)[1].latency.status == "same"


def test_compare_confidence_is_configurable() -> None:
    # One millisecond slower on twelve requests a side: one-sided p = 0.0087.
    before = [10.0, 11.0, 12.0] * 4
    after = [11.0, 12.0, 13.0] * 4
    runs = (
        make_run("b", [Endpoint("GET", "api/t/", [4], 12, durations=before)]),
        make_run("a", [Endpoint("GET", "api/t/", [4], 12, durations=after)]),
    )

    sure = compare(*runs, tolerance=0.0, confidence=0.999)
    default = compare(*runs, tolerance=0.0)

    assert (sure.confidence, sure.endpoints[0].latency.status) == (0.999, "same")
    assert (default.confidence, default.endpoints[0].latency.status) == (0.99, "slower")


def test_compare_run_wide_drift_is_no_regression() -> None:
    """A busier machine slows every endpoint alike: 1.5× everywhere, and no endpoint regressed;
    one endpoint twice as slow as that still does."""
    routes = ["api/a/", "api/b/", "api/c/", "api/d/"]
    before = make_run("b", [Endpoint("GET", r, [4], 12, durations=STEADY) for r in routes])
    slower = make_run(
        "a", [Endpoint("GET", r, [4], 12, durations=[1.5 * d for d in STEADY]) for r in routes]
    )
    one_worse = make_run(
        "a",
        [
            Endpoint(
                "GET", r, [4], 12, durations=[(3.0 if r == "api/d/" else 1.5) * d for d in STEADY]
            )
            for r in routes
        ],
    )

    drifted = compare(before, slower)
    assert drifted.drift == Drift(factor=1.49, endpoints=4)  # 15 ms is bucketed as 14.9
    assert [e.latency.status for e in drifted.endpoints] == ["same"] * 4
    assert drifted.regressions == ()

    worse = compare(before, one_worse)
    assert [e.key for e in worse.regressions] == ["GET api/d/"]
    assert (
        worse.regressions[0]
        .regressions[0]
        .endswith(
            "beyond the whole run's ×1.49: median 10 → 30.1 ms (×3.01); Mann–Whitney U p < 0.0001, "
            "12 and 12 requests"
        )
    )


@pytest.mark.parametrize(
    ("status", "regressed"),
    [("slower", True), ("faster", False), ("same", False), ("not_judged", False)],
)
def test_regression_reasons_latency_verdict(status: str, regressed: bool) -> None:
    verdict = LatencyVerdict(status=status, source="server", requests_before=12)  # type: ignore[arg-type]

    assert bool(regression_reasons(QueryVerdict("same"), verdict, tolerance=0.1)) is regressed


def test_regression_reasons_queries() -> None:
    more = QueryVerdict("more", ("queries.min rose from 3 to 4",))

    assert regression_reasons(more, NOT_RECORDED, tolerance=0.1) == more.reasons
    assert regression_reasons(QueryVerdict("fewer"), NOT_RECORDED, tolerance=0.1) == ()


def test_compare_a_path_only_one_run_took_is_no_regression() -> None:
    """A/A: the same code, but the second run met a cache miss (one more statement, on one
    request) the first never met. Its worst request ran more queries; it is no regression."""
    before = make_run("a", [Endpoint("GET", "api/t/", [3], 12)])
    miss = make_run("b", [Endpoint("GET", "api/t/", [3], 11), Endpoint("GET", "api/t/", [3], 1)])
    (endpoint,) = compare(before, _with_extra_statement(miss, index=11)).endpoints

    assert endpoint.queries_max == Delta(3, 4)
    assert (endpoint.queries, endpoint.regressions) == ("same", ())


def _with_extra_statement(run: AuditRun, *, index: int) -> AuditRun:
    """The run with one more statement shape on one request (rebuilt from its profiles)."""
    from perftoolkit.core.runs.paths import query_paths

    (endpoint,) = run.endpoints
    paths = [["list", "row", "row"]] * 12
    paths[index] = ["list", "row", "row", "cache_miss"]
    return run.with_changes(
        endpoints=(replace(endpoint, queries_max=4, query_paths=query_paths(paths)),)
    )


def test_compare_endpoint_seen_only_by_load_tool_has_no_query_regression() -> None:
    before = make_run("b", [Endpoint("GET", "api/t/", [4], 2, (60.0, 150.0, 210.0))])
    only_load = before.with_changes(
        endpoints=tuple(
            e.__class__.from_dict({**e.to_dict(), "queries": {}}) for e in before.endpoints
        )
    )

    (endpoint,) = compare(only_load, before).endpoints

    assert endpoint.queries_max == Delta(None, 4)
    assert endpoint.regressions == ()


def test_compare_totals() -> None:
    comparison = compare(before_run(), after_run())

    assert comparison.totals.to_dict() == {
        "endpoints": {"before": 8, "after": 8, "change": 0, "ratio": 0.0},
        "requests": {"before": 157, "after": 160, "change": 3, "ratio": 0.0191},
        "queries": {"before": 2546, "after": 759, "change": -1787, "ratio": -0.7019},
        "queries_per_request": {"before": 16.22, "after": 4.74, "change": -11.48, "ratio": -0.7078},
        "findings": {"before": 5, "after": 2, "change": -3, "ratio": -0.6},
        "latency_ms": {
            "p50": {"before": 140.0, "after": 110.0, "change": -30.0, "ratio": -0.2143},
            "p95": {"before": 1300.0, "after": 420.0, "change": -880.0, "ratio": -0.6769},
            "p99": {"before": 2100.0, "after": 700.0, "change": -1400.0, "ratio": -0.6667},
        },
        "failures": {"before": 0, "after": 0, "change": 0, "ratio": None},
        "cache_hit_ratio": {"before": 0.4865, "after": 0.8378, "change": 0.3513, "ratio": 0.7221},
    }


def test_compare_same_run_has_no_changes() -> None:
    run = before_run()

    comparison = compare(run, run)

    assert comparison.regressions == ()
    assert comparison.findings_fixed == comparison.findings_new == ()
    assert len(comparison.findings_remaining) == len(run.findings)
    assert all(e.queries_max.change == 0 for e in comparison.endpoints)


def test_compare_refuses_negative_tolerance() -> None:
    with pytest.raises(ValueError, match="tolerance must be a non-negative fraction, not -0.1"):
        compare(before_run(), after_run(), tolerance=-0.1)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5])
def test_compare_refuses_confidence_outside_zero_one(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        compare(before_run(), after_run(), confidence=confidence)


def test_compare_regressions_of_fixture_runs() -> None:
    comparison = compare(before_run(), after_run())

    assert [(e.key, e.regressions) for e in comparison.regressions] == [
        (
            "GET api/projects/<int:pk>/tasks/",
            ("queries.max rose from 4 to 5 on requests that ran the same statements",),
        )
    ]
    assert [e.key for e in comparison.only_before] == ["GET api/reports/legacy/"]
    assert [e.key for e in comparison.only_after] == ["GET api/search/"]

from __future__ import annotations

import pytest

from perftoolkit.core.runs.compare import (
    LATENCY_MIN_REQUESTS,
    Comparison,
    Delta,
    EndpointDelta,
    compare,
    latency_judged,
    regression_reasons,
)
from perftoolkit.core.runs.run import BudgetStatus
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

    assert endpoint.regressions == ("queries.max rose from 4 to 5",)
    assert comparison.to_dict()["regressions"] == [
        {"method": "GET", "route": "api/t/", "reasons": ["queries.max rose from 4 to 5"]}
    ]


def test_compare_no_regression_when_only_median_rises() -> None:
    _, endpoint = _one(
        Endpoint("GET", "api/t/", [2, 2, 5], 3, (60.0, 150.0, 210.0)),
        Endpoint("GET", "api/t/", [5, 5, 5], 3, (60.0, 150.0, 210.0)),
    )

    assert endpoint.queries_median == Delta(2, 5)
    assert endpoint.regressions == ()


def test_compare_regression_when_p95_rises_past_tolerance() -> None:
    _, endpoint = _one(
        Endpoint("GET", "api/t/", [4], 20, (60.0, 150.0, 210.0)),
        Endpoint("GET", "api/t/", [4], 20, (60.0, 190.0, 210.0)),
    )

    assert endpoint.regressions == (
        "p95 rose from 150 ms to 190 ms (+26.7 %), more than the 10 % tolerance",
    )


@pytest.mark.parametrize(("before", "after"), [(19, 40), (40, 19), (5, 5)])
def test_compare_p95_of_too_few_requests_is_not_judged(before: int, after: int) -> None:
    assert LATENCY_MIN_REQUESTS == 20
    _, endpoint = _one(
        Endpoint("GET", "api/t/", [4], before, (60.0, 150.0, 210.0)),
        Endpoint("GET", "api/t/", [4, 5], after, (60.0, 900.0, 990.0)),
    )

    assert endpoint.latency_p95 == Delta(150.0, 900.0)
    assert endpoint.regressions == ("queries.max rose from 4 to 5",)


@pytest.mark.parametrize(
    ("before", "after", "tolerance", "regressed"),
    [
        (100.0, 110.0, 0.10, False),  # exactly at the tolerance: allowed
        (100.0, 110.1, 0.10, True),
        (200.0, 220.0, 0.10, False),  # 200 * 1.1 is 220.00000000000003 in floats
        (3.0, 3.3, 0.10, False),  # 3.3 - 3.0 is 0.2999999999999998 in floats
        (1000.0, 1100.0, 0.10, False),
        (100.0, 100.0, 0.0, False),
        (100.0, 100.5, 0.0, True),  # zero tolerance: any rise
        (100.0, 150.0, 0.5, False),
        (100.0, 151.0, 0.5, True),
        (0.0, 0.0, 0.10, False),
        (0.0, 1.0, 0.10, True),  # from zero every rise is past any fraction
        (150.0, 90.0, 0.10, False),  # faster is never a regression
        (None, 500.0, 0.10, False),  # not measured before: nothing to compare
        (150.0, None, 0.10, False),
    ],
)
def test_regression_reasons_p95_tolerance_edges(
    before: float | None, after: float | None, tolerance: float, regressed: bool
) -> None:
    reasons = regression_reasons(Delta(3, 3), Delta(before, after), tolerance=tolerance)

    assert bool(reasons) is regressed


@pytest.mark.parametrize(
    ("before", "after", "regressed"),
    [(4, 5, True), (4, 4, False), (5, 4, False), (None, 9, False), (9, None, False)],
)
def test_regression_reasons_queries_max(
    before: int | None, after: int | None, regressed: bool
) -> None:
    assert (
        bool(regression_reasons(Delta(before, after), Delta(1.0, 1.0), tolerance=0.1)) is regressed
    )


def test_compare_tolerance_is_configurable() -> None:
    pair = (
        Endpoint("GET", "api/t/", [4], 20, (60.0, 150.0, 210.0)),
        Endpoint("GET", "api/t/", [4], 20, (60.0, 190.0, 210.0)),
    )

    assert _one(*pair, tolerance=0.25)[1].regressions != ()
    assert _one(*pair, tolerance=0.30)[1].regressions == ()


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


def test_compare_regressions_of_fixture_runs() -> None:
    comparison = compare(before_run(), after_run())

    assert [(e.key, e.regressions) for e in comparison.regressions] == [
        (
            "GET api/projects/<int:pk>/tasks/",
            # 15 requests a side: too few for the p95 rise (150 -> 190 ms) to be judged
            ("queries.max rose from 4 to 5",),
        )
    ]
    assert [e.key for e in comparison.only_before] == ["GET api/reports/legacy/"]
    assert [e.key for e in comparison.only_after] == ["GET api/search/"]


@pytest.mark.parametrize(
    ("before", "after", "judged"),
    [(20, 20, True), (19, 400, False), (400, 19, False), (None, 40, False), (40, None, False)],
)
def test_latency_judged(before: int | None, after: int | None, judged: bool) -> None:
    assert latency_judged(Delta(before, after)) is judged

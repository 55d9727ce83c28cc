from __future__ import annotations

import pytest

from perftoolkit.core.runs.targets import TargetResult, Targets, score
from tests.support.runs import Endpoint, before_run, make_run


def test_targets_defaults() -> None:
    assert Targets().to_dict() == {
        "p50_ms": 200.0,
        "p95_ms": 500.0,
        "p99_ms": 1000.0,
        "queries": 5.0,
        "cache_hit_ratio": 0.8,
    }


def test_targets_from_dict_any_case_keeps_other_defaults() -> None:
    targets = Targets.from_dict({"P95_MS": 300, "queries": 4})

    assert (targets.p95_ms, targets.queries, targets.p50_ms) == (300.0, 4.0, 200.0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"p95": 300},
            "unknown target 'p95'; known targets are cache_hit_ratio, p50_ms, p95_ms, p99_ms, queries",
        ),
        ({"queries": "5"}, "target 'queries' must be a non-negative number, not '5'"),
        ({"queries": True}, "target 'queries' must be a non-negative number, not True"),
        ({"p50_ms": -1}, "target 'p50_ms' must be a non-negative number, not -1"),
    ],
)
def test_targets_from_dict_refuses(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Targets.from_dict(data)


def test_score_before_run_against_defaults() -> None:
    card = score(before_run(), Targets())

    assert card.results == (
        TargetResult(
            "p50_ms",
            "P50 latency",
            200.0,
            False,
            140.0,
            "all requests",
            "met",
            6,
            8,
            "GET api/instructor/courses/",
        ),
        TargetResult(
            "p95_ms",
            "P95 latency",
            500.0,
            False,
            1300.0,
            "all requests",
            "missed",
            6,
            8,
            "GET api/instructor/courses/",
        ),
        TargetResult(
            "p99_ms",
            "P99 latency",
            1000.0,
            False,
            2100.0,
            "all requests",
            "missed",
            7,
            8,
            "GET api/instructor/courses/",
        ),
        TargetResult(
            "queries",
            "Queries per request",
            5.0,
            False,
            46.0,
            "worst endpoint, median",
            "missed",
            2,
            8,
            "GET api/instructor/courses/",
        ),
        TargetResult(
            "cache_hit_ratio",
            "Cache hit rate",
            0.8,
            True,
            90 / 185,
            "all cache reads",
            "missed",
            1,
            4,
            "GET api/auth/profile/",
        ),
    )
    assert (card.met, card.missed) == (1, 4)


def test_score_is_strict_at_the_target() -> None:
    run = make_run("r", [Endpoint("GET", "api/a/", [5], 2, (200.0, 499.0, 1000.0), cache=(5, 4))])

    card = score(run, Targets())

    assert [r.status for r in card.results] == ["missed", "met", "missed", "missed", "missed"]
    assert card.results[1].worst is None


def test_score_without_load_judges_the_slowest_endpoint() -> None:
    run = make_run(
        "r", [Endpoint("GET", "api/a/", [2], 2), Endpoint("GET", "api/b/", [4], 2)], load=False
    )

    p95 = score(run, Targets()).results[1]

    assert (p95.value, p95.basis, p95.status, p95.endpoints_met) == (
        14.0,
        "slowest endpoint",
        "met",
        2,
    )


def test_score_unknown_without_data() -> None:
    run = make_run("r", [], load=False)

    assert [r.status for r in score(run, Targets()).results] == ["unknown"] * 5

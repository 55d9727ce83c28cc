from __future__ import annotations

import json
from pathlib import Path

import pytest

from perftoolkit.core.runs.loadstats import (
    LoadProgress,
    LocustEntry,
    histogram_percentile,
    load_stats_from_csv,
    load_stats_from_locust,
    parse_locust_csv,
    parse_locust_json,
    parse_progress_line,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "locust"


def _route(name: str) -> str:
    return name.lstrip("/")


def test_histogram_percentile_walks_down_from_the_slowest() -> None:
    histogram = {10: 50, 20: 30, 30: 15, 400: 5}

    # As Locust: the smallest value with at most q% of requests above it... counted from the
    # top, so a tie at the cut goes up (50 requests at 10 ms are not "above" 20 ms's half).
    assert [histogram_percentile(histogram, q) for q in (50, 90, 95, 99)] == [
        20.0,
        30.0,
        400.0,
        400.0,
    ]


def test_histogram_percentile_empty_is_zero() -> None:
    assert histogram_percentile({}, 95) == 0.0


def test_parse_locust_json_reads_string_keyed_histograms() -> None:
    entries = parse_locust_json(
        [
            {
                "name": "/a/",
                "method": "GET",
                "num_requests": 3,
                "num_failures": 1,
                "response_times": {"5": 2, "120": 1},
                "total_response_time": 130.0,
                "min_response_time": 4.6,
                "max_response_time": 121.0,
                "start_time": 100.0,
                "last_request_timestamp": 102.0,
            },
            {"name": "/idle/", "method": "GET", "num_requests": 0, "num_failures": 0},
        ]
    )

    assert entries == [
        LocustEntry(
            name="/a/",
            method="GET",
            requests=3,
            failures=1,
            total_ms=130.0,
            min_ms=4.6,
            max_ms=121.0,
            started_at=100.0,
            last_request_at=102.0,
            histogram={5: 2, 120: 1},
        )
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "/a/"}, "Locust's JSON stats are a list of entries; this is not a list"),
        ([{"method": "GET", "num_requests": 1}], "entry 0: a stats entry has no 'name'"),
        (
            [{"name": "/a/", "num_requests": "many"}],
            "entry 0: a stats entry has a malformed value (invalid literal for int() with base 10: 'many')",
        ),
    ],
)
def test_parse_locust_json_errors_name_the_entry(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=r"^(Locust|entry 0)") as info:
        parse_locust_json(data)

    assert str(info.value) == message


def test_load_stats_merges_names_of_one_endpoint() -> None:
    common = {"method": "GET", "start_time": 10.0, "last_request_timestamp": 20.0}
    data = [
        {**common, "name": "/items/3/", "num_requests": 2, "response_times": {"10": 2}},
        {**common, "name": "/items/<int:pk>/", "num_requests": 2, "response_times": {"30": 2}},
        {**common, "name": "/other/", "num_requests": 6, "response_times": {"50": 6}},
    ]
    routes = {"/items/3/": "items/<int:pk>/", "/items/<int:pk>/": "items/<int:pk>/"}

    stats = load_stats_from_locust(
        parse_locust_json(data),
        route_for=lambda name: routes.get(name, name.lstrip("/")),
        users=4,
        spawn_rate=2.0,
        run_time_s=10.0,
        profiles=["site"],
    )

    assert [(e.route, e.requests, e.p50, e.p95, e.rps) for e in stats.entries] == [
        ("items/<int:pk>/", 4, 30.0, 30.0, 0.4),
        ("other/", 6, 50.0, 50.0, 0.6),
    ]
    assert (stats.total.requests, stats.total.p50, stats.total.p99) == (10, 50.0, 50.0)


def test_percentiles_equal_locusts_own_for_the_same_run() -> None:
    """The golden run: Locust's JSON and the stats CSV it wrote after its users had stopped."""
    entries = parse_locust_json(json.loads((FIXTURES / "fixed.json").read_text()))
    rows = {row.name: row for row in parse_locust_csv((FIXTURES / "fixed_stats.csv").read_text())}
    stats = load_stats_from_locust(
        entries, route_for=lambda name: name, users=3, spawn_rate=3.0, run_time_s=6.0
    )

    ours = {e.route: (e.requests, e.p50, e.p95, e.p99) for e in [*stats.entries, stats.total]}
    locusts = {
        name: (r.requests, r.percentiles["50%"], r.percentiles["95%"], r.percentiles["99%"])
        for name, r in rows.items()
    }
    assert ours == locusts
    assert len(ours) == 4


def test_load_stats_from_csv_is_the_fallback() -> None:
    rows = parse_locust_csv((FIXTURES / "fixed_stats.csv").read_text())

    stats = load_stats_from_csv(
        rows, route_for=_route, users=3, spawn_rate=3.0, run_time_s=6.0, workers=0
    )

    assert [(e.route, e.requests, e.p95) for e in stats.entries] == [
        ("cached/", 78, 12.0),
        ("items/", 81, 13.0),
        ("items/7/", 81, 11.0),
    ]
    assert (stats.total.route, stats.total.requests, stats.total.p95) == ("Aggregated", 240, 13.0)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "         Aggregated                                 211     0(0.00%) |      5       2      39      5 |   51.00        0.00",
            LoadProgress(requests=211, failures=0, rps=51.0),
        ),
        (
            "         Aggregated    1200    17(1.42%) |    105       2    3900     40 |  123.40        1.10",
            LoadProgress(requests=1200, failures=17, rps=123.4),
        ),
        (
            "GET      /items/      105     0(0.00%) |      6       3      39      6 |    0.00        0.00",
            None,
        ),
        ("[2026-11-23 12:49:44,036] vm/INFO/locust.main: Run time limit set to 5 seconds", None),
    ],
)
def test_parse_progress_line(line: str, expected: LoadProgress | None) -> None:
    assert parse_progress_line(line) == expected

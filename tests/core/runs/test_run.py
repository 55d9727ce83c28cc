from __future__ import annotations

from dataclasses import replace

from perftoolkit.core.diagnosis import load_detectors
from perftoolkit.core.events import CacheStats, CallSite, QueryEvent, RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding, merge_findings
from perftoolkit.core.fingerprint import fingerprint
from perftoolkit.core.runs.loadstats import LoadEntry, LoadStats, histogram_percentile
from perftoolkit.core.runs.run import build_run, duplicate_count, iso_utc
from perftoolkit.core.stats import median, percentile

A = 'SELECT "a"."id" FROM "a" WHERE "a"."id" = %s'
B = 'SELECT "b"."id" FROM "b"'


def q(sql: str, ms: float = 1.0, key: str | None = None) -> QueryEvent:
    return QueryEvent(sql=sql, fingerprint=fingerprint(sql), ms=ms, params_key=key)


def req(
    route: str,
    *queries: QueryEvent,
    status: int = 200,
    duration: float = 10.0,
    cache: CacheStats | None = None,
) -> RequestProfile:
    return RequestProfile(
        method="GET",
        route=route,
        view="app.views.x",
        status=status,
        started_at=1_700_000_000.0,
        duration_ms=duration,
        queries=queries,
        cache=cache or CacheStats(),
    )


def test_percentile_and_median() -> None:
    assert percentile([5, 1, 4, 2, 3], 50) == 3
    assert percentile([5, 1, 4, 2, 3], 95) == 5
    assert percentile([], 95) == 0.0
    assert median([4, 1, 3, 2]) == 2.5


def test_histogram_percentile_matches_locust_walk() -> None:
    histogram = {10: 50, 20: 30, 100: 15, 1000: 5}
    # Locust's own walk (stats.calculate_response_time_percentile), so p95 matches its output.
    assert histogram_percentile(histogram, 50) == 20
    assert histogram_percentile(histogram, 85) == 100
    assert histogram_percentile(histogram, 95) == 1000
    assert histogram_percentile({10: 99, 20: 1}, 99) == 20
    assert histogram_percentile({10: 99, 20: 1}, 98) == 10
    assert histogram_percentile({}, 95) == 0.0


def test_duplicate_count() -> None:
    profile = req("x/", q(A, key="1"), q(A, key="1"), q(A, key="1"), q(A, key="2"), q(B))
    assert duplicate_count(profile) == 2


def test_build_run_endpoint_statistics() -> None:
    profiles = [
        req("items/", q(A, 2.0, "1"), q(B, 1.0), duration=10.0, cache=CacheStats(4, 3)),
        req("items/", q(A, 3.0, "1"), q(A, 1.0, "1"), q(B, 1.0), duration=30.0, status=500),
        req("other/", q(B, 5.0), duration=5.0),
    ]
    run = build_run(
        profiles,
        label="t",
        started_at=0,
        finished_at=60,
        environment={"python": "3.11"},
        detectors=load_detectors(),
        options=DetectionOptions(),
    )
    items = run.endpoint("GET", "items/")
    assert items is not None
    assert (items.requests, items.queries_min, items.queries_median, items.queries_max) == (
        2,
        2,
        2.5,
        3,
    )
    assert items.status_codes == {"200": 1, "500": 1}
    assert (items.duplicates_median, items.duplicates_max) == (0.5, 1)
    assert (items.db_ms_median, items.db_ms_p95) == (4.0, 5.0)
    assert (items.latency_p50, items.latency_p95, items.latency_source) == (
        10.0,
        30.0,
        "middleware",
    )
    assert items.cache == CacheStats(4, 3)
    assert run.cache == CacheStats(4, 3)
    [stat_a] = [s for s in run.queries if s.sql == A]
    assert (stat_a.calls, stat_a.total_ms, stat_a.max_ms, stat_a.per_request_max) == (
        3,
        6.0,
        3.0,
        2,
    )
    assert stat_a.routes == ("GET items/",)
    assert stat_a.tables == ("a",)
    assert (run.started_at, run.finished_at) == ("1970-01-01T00:00:00Z", "1970-01-01T00:01:00Z")
    assert [f.kind for f in run.findings] == ["duplicate_query"]
    assert items.finding_ids == (run.findings[0].id,)


def test_build_run_uses_load_latency_and_keeps_load_only_endpoints() -> None:
    entry = LoadEntry("GET", "items/", 100, 2, 12.0, 40.0, 90.0)
    unseen = LoadEntry("GET", "health/", 50, 0, 1.0, 2.0, 3.0)
    load = LoadStats("locust", 10, 5.0, 30.0, 0, ("smoke",), (entry, unseen), entry)
    run = build_run(
        [req("items/", q(B))],
        label="t",
        started_at=0,
        finished_at=1,
        environment={},
        detectors=[],
        options=DetectionOptions(),
        load=load,
    )
    items = run.endpoint("GET", "items/")
    assert items is not None
    assert (
        items.latency_p50,
        items.latency_p95,
        items.latency_p99,
        items.latency_source,
        items.failures,
    ) == (12.0, 40.0, 90.0, "locust", 2)
    health = run.endpoint("GET", "health/")
    assert health is not None
    assert (health.requests, health.queries_max, health.latency_p95) == (50, None, 2.0)


def test_finding_id_is_stable_and_merge_counts_requests() -> None:
    site = CallSite("app/views.py", 3, "f")
    one = Finding(
        "n_plus_one", "GET", "x/", "m", model="a.B", field="c", path="c", repeats=4, callsite=site
    )
    two = Finding(
        "n_plus_one",
        "GET",
        "x/",
        "other message",
        model="a.B",
        field="c",
        path="c",
        repeats=9,
        callsite=site,
    )
    # a hash of kind, endpoint, model, path, the callsite's file and function
    assert one.id == two.id == "19d775e45851"
    moved = replace(one, callsite=CallSite("app/views.py", 9, "f"))  # an edit above it
    assert moved.id == one.id
    assert replace(one, callsite=CallSite("app/views.py", 3, "g")).id != one.id
    [merged] = merge_findings([one, two, one])
    assert (merged.repeats, merged.requests, merged.message) == (9, 3, "other message")


def test_iso_utc() -> None:
    assert iso_utc(1_795_000_000.7) == "2026-11-18T11:06:40Z"


def test_findings_of_one_id_in_one_request_count_that_request_once() -> None:
    """Three per-row counts on three lines of one function (a queue's open, resolved and closed
    tickets) have one id: one finding, the worst, seen in one request."""
    from perftoolkit.core.events import CallSite, RequestProfile
    from perftoolkit.core.findings import DetectionOptions, Finding
    from perftoolkit.core.runs.aggregate import RunAggregator

    def counts(profile: RequestProfile, options: DetectionOptions) -> list[Finding]:
        return [
            Finding(
                "n_plus_one",
                "GET",
                "reports/",
                f"N+1 at line {line}",
                model="helpdesk.Queue",
                path="ticket",
                repeats=repeats,
                callsite=CallSite("views.py", line, "report"),
            )
            for line, repeats in ((1583, 5), (1584, 7), (1585, 6))
        ]

    aggregator = RunAggregator()
    profile = RequestProfile(method="GET", route="reports/")
    aggregator.add_profile(profile, (0,), [counts], DetectionOptions())
    [finding] = aggregator.merged_findings()
    assert (finding.requests, finding.repeats, finding.message) == (1, 7, "N+1 at line 1584")

"""Small AuditRuns for budget tests, endpoint statistics written out as report.json holds them."""

from __future__ import annotations

from perftoolkit.core.events import CallSite
from perftoolkit.core.findings import Finding, Fix
from perftoolkit.core.runs.run import AuditRun, EndpointStats


def endpoint(
    route: str,
    queries: int | None,
    *,
    method: str = "GET",
    duplicates: int = 0,
    db_ms_p95: float = 1.0,
    latency_p95: float | None = 10.0,
    requests: int = 1,
    finding_ids: tuple[str, ...] = (),
) -> EndpointStats:
    return EndpointStats(
        method=method,
        route=route,
        view="app.views.view",
        requests=requests,
        status_codes={"200": requests},
        queries_min=queries,
        queries_median=queries,
        queries_max=queries,
        duplicates_median=float(duplicates),
        db_ms_median=db_ms_p95,
        db_ms_p95=db_ms_p95,
        latency_p50=latency_p95,
        latency_p95=latency_p95,
        latency_p99=latency_p95,
        latency_source="middleware",
        finding_ids=finding_ids,
        duplicates_max=duplicates,
    )


def nplusone(route: str, *, method: str = "GET", repeats: int = 20) -> Finding:
    return Finding(
        kind="n_plus_one",
        method=method,
        route=route,
        message=f"N+1: Course.instructor runs once per Course row ({repeats} queries).",
        severity="error",
        model="lms.Course",
        field="instructor",
        path="instructor",
        repeats=repeats,
        callsite=CallSite("lms/serializers.py", 40, "get_instructor"),
        fix=Fix(action="select_related", code='.select_related("instructor")'),
    )


def run_of(*endpoints: EndpointStats, findings: tuple[Finding, ...] = ()) -> AuditRun:
    linked = []
    for item in endpoints:
        ids = tuple(f.id for f in findings if (f.method, f.route) == (item.method, item.route))
        linked.append(item if item.finding_ids else _with_ids(item, ids))
    return AuditRun(
        label="test",
        started_at="2026-11-23T12:00:00Z",
        finished_at="2026-11-23T12:00:01Z",
        complete=True,
        environment={},
        endpoints=tuple(linked),
        queries=(),
        findings=findings,
    )


def _with_ids(item: EndpointStats, ids: tuple[str, ...]) -> EndpointStats:
    from dataclasses import replace

    return replace(item, finding_ids=ids)

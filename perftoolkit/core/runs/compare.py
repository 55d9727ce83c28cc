"""Two runs side by side: per-endpoint deltas, findings fixed / new / remaining, regressions.

`compare(before, after)` is pure; `reporting.schema` reads and writes the result as
`compare.json` (`perftoolkit.compare/1`), and the HTML and Markdown views render it.
The value types live in `core.comparison` and are importable from here too.

A regression is an endpoint present in both runs whose worst request ran more queries
(`queries.max` rose), or whose p95 latency rose by more than `tolerance` (a fraction of the
before value: 0.10 allows +10 %). Query counts are exact, so any rise counts; latency is noisy,
so it gets the tolerance, and is judged only where both runs measured the endpoint at least
`LATENCY_MIN_REQUESTS` times (the p95 of five requests is their slowest one).
"""

from __future__ import annotations

from typing import Any

from perftoolkit.core.findings import Finding
from perftoolkit.core.runs.comparison import (
    DEFAULT_TOLERANCE,
    SCHEMA,
    Comparison,
    Delta,
    EndpointDelta,
    EndpointRef,
    FindingChange,
    RunRef,
    Totals,
)
from perftoolkit.core.runs.run import AuditRun, EndpointStats

__all__ = [
    "DEFAULT_TOLERANCE",
    "LATENCY_MIN_REQUESTS",
    "SCHEMA",
    "Comparison",
    "Delta",
    "EndpointDelta",
    "EndpointRef",
    "FindingChange",
    "RunRef",
    "Totals",
    "compare",
    "latency_judged",
    "regression_reasons",
]

# Below this a latency rise is float noise, not a change (values are milliseconds).
_EPSILON = 1e-9
LATENCY_MIN_REQUESTS = 20


def compare(
    before: AuditRun, after: AuditRun, *, tolerance: float = DEFAULT_TOLERANCE
) -> Comparison:
    """Compare two runs endpoint by endpoint (matched on method and route pattern)."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be a non-negative fraction, not {tolerance!r}")
    old = {(e.method, e.route): e for e in before.endpoints}
    new = {(e.method, e.route): e for e in after.endpoints}
    both = sorted(old.keys() & new.keys(), key=_order)
    old_findings = {f.id: f for f in before.findings}
    new_findings = {f.id: f for f in after.findings}
    return Comparison(
        before=RunRef.of(before),
        after=RunRef.of(after),
        tolerance=tolerance,
        totals=_totals(before, after),
        endpoints=tuple(_endpoint_delta(old[k], new[k], tolerance) for k in both),
        only_before=tuple(EndpointRef(*k) for k in sorted(old.keys() - new.keys(), key=_order)),
        only_after=tuple(EndpointRef(*k) for k in sorted(new.keys() - old.keys(), key=_order)),
        findings_fixed=_changes(old_findings, {}, old_findings.keys() - new_findings.keys()),
        findings_new=_changes({}, new_findings, new_findings.keys() - old_findings.keys()),
        findings_remaining=_changes(
            old_findings, new_findings, old_findings.keys() & new_findings.keys()
        ),
    )


def latency_judged(requests: Delta) -> bool:
    """Whether both runs measured an endpoint often enough for its latency change to count."""
    before, after = requests.before, requests.after
    return before is not None and after is not None and min(before, after) >= LATENCY_MIN_REQUESTS


def regression_reasons(
    queries_max: Delta, latency_p95: Delta, *, tolerance: float, judge_latency: bool = True
) -> tuple[str, ...]:
    """Why an endpoint regressed (empty when it did not), one sentence per broken rule."""
    reasons = []
    change = queries_max.change
    if change is not None and change > 0:
        reasons.append(
            f"queries.max rose from {_num(queries_max.before)} to {_num(queries_max.after)}"
        )
    before, after = latency_p95.before, latency_p95.after
    if (
        judge_latency
        and before is not None
        and after is not None
        and after - before > tolerance * before + _EPSILON
    ):
        rise = f" (+{(after - before) / before * 100:.1f} %)" if before else ""
        reasons.append(
            f"p95 rose from {_num(before)} ms to {_num(after)} ms{rise}, "
            f"more than the {tolerance * 100:g} % tolerance"
        )
    return tuple(reasons)


def _order(key: tuple[str, str]) -> tuple[str, str]:
    method, route = key
    return (route, method)


def _endpoint_delta(old: EndpointStats, new: EndpointStats, tolerance: float) -> EndpointDelta:
    queries_max = Delta(old.queries_max, new.queries_max)
    latency_p95 = Delta(old.latency_p95, new.latency_p95)
    requests = Delta(old.requests, new.requests)
    return EndpointDelta(
        method=old.method,
        route=old.route,
        requests=requests,
        queries_min=Delta(old.queries_min, new.queries_min),
        queries_median=Delta(old.queries_median, new.queries_median),
        queries_max=queries_max,
        duplicates=Delta(old.duplicates_median, new.duplicates_median),
        db_ms_median=Delta(old.db_ms_median, new.db_ms_median),
        db_ms_p95=Delta(old.db_ms_p95, new.db_ms_p95),
        latency_p50=Delta(old.latency_p50, new.latency_p50),
        latency_p95=latency_p95,
        latency_p99=Delta(old.latency_p99, new.latency_p99),
        cache_hit_ratio=Delta(_hit_ratio(old), _hit_ratio(new)),
        findings=Delta(len(old.finding_ids), len(new.finding_ids)),
        budget_before=old.budget.status,
        budget_after=new.budget.status,
        regressions=regression_reasons(
            queries_max,
            latency_p95,
            tolerance=tolerance,
            judge_latency=latency_judged(requests),
        ),
    )


def _hit_ratio(endpoint: EndpointStats) -> float | None:
    gets = endpoint.cache.gets
    return round(endpoint.cache.hits / gets, 4) if gets else None


def _changes(
    old: dict[str, Finding], new: dict[str, Finding], ids: set[str]
) -> tuple[FindingChange, ...]:
    changes = []
    for fid in ids:
        finding = new.get(fid) or old[fid]
        was, now = old.get(fid), new.get(fid)
        changes.append(
            FindingChange(
                id=fid,
                kind=finding.kind,
                method=finding.method,
                route=finding.route,
                severity=finding.severity,
                message=finding.message,
                callsite=str(finding.callsite) if finding.callsite else None,
                repeats=Delta(
                    was.repeats if was else None,
                    now.repeats if now else None,
                ),
            )
        )
    return tuple(sorted(changes, key=lambda c: (c.route, c.method, c.kind, c.id)))


def _totals(before: AuditRun, after: AuditRun) -> Totals:
    def pair(measure: Any) -> Delta:
        return Delta(measure(before), measure(after))

    return Totals(
        endpoints=pair(lambda r: len(r.endpoints)),
        requests=pair(lambda r: sum(e.requests for e in r.endpoints)),
        queries=pair(_queries),
        queries_per_request=pair(_queries_per_request),
        findings=pair(lambda r: len(r.findings)),
        latency_p50=pair(lambda r: _overall(r, "p50")),
        latency_p95=pair(lambda r: _overall(r, "p95")),
        latency_p99=pair(lambda r: _overall(r, "p99")),
        failures=pair(_failures),
        cache_hit_ratio=pair(
            lambda r: round(r.cache.hits / r.cache.gets, 4) if r.cache.gets else None
        ),
    )


def _queries(run: AuditRun) -> int:
    return sum(q.calls for q in run.queries)


def _queries_per_request(run: AuditRun) -> float | None:
    """Mean statements per recorded request (endpoints seen only by the load tool excluded)."""
    recorded = sum(e.requests for e in run.endpoints if e.queries_median is not None)
    return round(_queries(run) / recorded, 2) if recorded else None


def _overall(run: AuditRun, percentile: str) -> float | None:
    if run.load is None or not run.load.total.requests:
        return None
    value: float = getattr(run.load.total, percentile)
    return value


def _failures(run: AuditRun) -> int:
    if run.load is not None:
        return run.load.total.failures
    return sum(e.failures for e in run.endpoints)


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:g}"

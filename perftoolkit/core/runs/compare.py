"""Two runs side by side: per-endpoint deltas, findings fixed / new / remaining, regressions.

`compare(before, after)` is pure; `reporting.schema` reads and writes the result as
`compare.json` (`perftoolkit.compare/1`), and the HTML and Markdown views render it.
The value types live in `core.comparison` and are importable from here too.

A regression is an endpoint present in both runs that runs more queries, judged exactly path by
path (`core.runs.paths`: the same statements ran more times, or even the cheapest request ran
more), or whose latency a rank test calls slower (`core.latency.judge_latency`):
its requests' durations are stochastically larger than before's stretched by `1 + tolerance`
(0.10: the smallest change that counts is +10 %), at `confidence`, and by more than the whole
run moved. Query counts are exact, so any rise counts; latency is noisy, so it gets a test, on the
server-side durations the recording kept (Locust's response times when a run has none), and an
endpoint with fewer than `MIN_SAMPLES` timed requests a side is "not judged", never a regression.
"""

from __future__ import annotations

from typing import Any

from perftoolkit.core.findings import Finding
from perftoolkit.core.latency import (
    DEFAULT_CONFIDENCE,
    MIN_SAMPLES,
    NOT_RECORDED,
    Drift,
    LatencySamples,
    LatencyVerdict,
    judge_latency,
    pick_samples,
    run_drift,
)
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
from perftoolkit.core.runs.paths import QueryVerdict, judge_queries
from perftoolkit.core.runs.run import AuditRun, EndpointStats

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_TOLERANCE",
    "MIN_SAMPLES",
    "SCHEMA",
    "Comparison",
    "Delta",
    "EndpointDelta",
    "EndpointRef",
    "FindingChange",
    "RunRef",
    "Totals",
    "compare",
    "regression_reasons",
]


def compare(
    before: AuditRun,
    after: AuditRun,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Comparison:
    """Compare two runs endpoint by endpoint (matched on method and route pattern)."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be a non-negative fraction, not {tolerance!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    old = {(e.method, e.route): e for e in before.endpoints}
    new = {(e.method, e.route): e for e in after.endpoints}
    both = sorted(old.keys() & new.keys(), key=_order)
    old_findings = {f.id: f for f in before.findings}
    new_findings = {f.id: f for f in after.findings}
    picked = {k: pick_samples(_samples(before, old[k]), _samples(after, new[k])) for k in both}
    drift = run_drift((p[1], p[2]) for p in picked.values() if p is not None)
    verdicts = {k: _latency_verdict(picked[k], tolerance, confidence, drift) for k in both}
    return Comparison(
        before=RunRef.of(before),
        after=RunRef.of(after),
        tolerance=tolerance,
        confidence=confidence,
        drift=drift,
        totals=_totals(before, after),
        endpoints=tuple(
            _endpoint_delta(old[k], new[k], verdicts[k], tolerance, confidence, drift) for k in both
        ),
        only_before=tuple(EndpointRef(*k) for k in sorted(old.keys() - new.keys(), key=_order)),
        only_after=tuple(EndpointRef(*k) for k in sorted(new.keys() - old.keys(), key=_order)),
        findings_fixed=_changes(old_findings, {}, old_findings.keys() - new_findings.keys()),
        findings_new=_changes({}, new_findings, new_findings.keys() - old_findings.keys()),
        findings_remaining=_changes(
            old_findings, new_findings, old_findings.keys() & new_findings.keys()
        ),
    )


def regression_reasons(
    queries: QueryVerdict,
    latency: LatencyVerdict,
    *,
    tolerance: float,
    confidence: float = DEFAULT_CONFIDENCE,
    drift: Drift | None = None,
) -> tuple[str, ...]:
    """Why an endpoint regressed (empty when it did not), one sentence per broken rule."""
    reasons = list(queries.reasons) if queries.status == "more" else []
    if latency.status == "slower":
        reasons.append(latency_sentence(latency, tolerance, confidence, drift))
    return tuple(reasons)


SOURCE_NAMES = {
    "active": "server time (CPU waits left out)",
    "server": "server time",
    "client": "response time (Locust)",
}


def latency_sentence(
    latency: LatencyVerdict, tolerance: float, confidence: float, drift: Drift | None = None
) -> str:
    """One sentence for a verdict: what moved, by how much, and how sure the test is."""
    what = SOURCE_NAMES.get(latency.source or "", "latency")
    if latency.status == "not_judged":
        return f"{what} not judged: {latency.reason}"
    medians = f"median {_num(latency.median_before)} → {_num(latency.median_after)} ms"
    ratio = latency.median_ratio
    if ratio is not None:
        medians += f" (×{ratio:.2f})"
    counts = f"{latency.requests_before} and {latency.requests_after} requests"
    p_value = _p(latency.p_value)
    if latency.status == "same":
        return (
            f"{what} unchanged within ±{tolerance * 100:g} % at {confidence * 100:g} % "
            f"confidence: {medians}; {p_value}, {counts}"
        )
    word = "slower" if latency.status == "slower" else "faster"
    run = ""
    if drift is not None and (drift.factor > 1) == (latency.status == "slower"):
        run = f", beyond the whole run's ×{drift.factor:.2f}"
    return (
        f"{what} {word} by more than {tolerance * 100:g} % at {confidence * 100:g} % "
        f"confidence{run}: {medians}; Mann–Whitney U {p_value}, {counts}"
    )


def _p(value: float | None) -> str:
    if value is None:
        return "p –"
    return "p < 0.0001" if value < 0.0001 else f"p = {value:.2g}"


def _order(key: tuple[str, str]) -> tuple[str, str]:
    method, route = key
    return (route, method)


def _samples(run: AuditRun, endpoint: EndpointStats) -> LatencySamples:
    entry = run.load.entry(endpoint.method, endpoint.route) if run.load else None
    return LatencySamples(
        active=endpoint.active,
        server=endpoint.durations,
        client=entry.histogram if entry else LatencySamples().client,
    )


def _latency_verdict(
    picked: Any, tolerance: float, confidence: float, drift: Drift | None
) -> LatencyVerdict:
    if picked is None:
        return NOT_RECORDED
    source, before, after = picked
    return judge_latency(
        before,
        after,
        tolerance=tolerance,
        confidence=confidence,
        source=source,
        drift=drift.factor if drift else 1.0,
    )


def _endpoint_delta(
    old: EndpointStats,
    new: EndpointStats,
    latency: LatencyVerdict,
    tolerance: float,
    confidence: float,
    drift: Drift | None,
) -> EndpointDelta:
    queries = judge_queries(
        old.query_paths,
        new.query_paths,
        min_before=old.queries_min,
        min_after=new.queries_min,
    )
    return EndpointDelta(
        method=old.method,
        route=old.route,
        requests=Delta(old.requests, new.requests),
        queries_min=Delta(old.queries_min, new.queries_min),
        queries_median=Delta(old.queries_median, new.queries_median),
        queries_max=Delta(old.queries_max, new.queries_max),
        duplicates=Delta(old.duplicates_median, new.duplicates_median),
        db_ms_median=Delta(old.db_ms_median, new.db_ms_median),
        db_ms_p95=Delta(old.db_ms_p95, new.db_ms_p95),
        latency_p50=Delta(old.latency_p50, new.latency_p50),
        latency_p95=Delta(old.latency_p95, new.latency_p95),
        latency_p99=Delta(old.latency_p99, new.latency_p99),
        cache_hit_ratio=Delta(_hit_ratio(old), _hit_ratio(new)),
        findings=Delta(len(old.finding_ids), len(new.finding_ids)),
        budget_before=old.budget.status,
        budget_after=new.budget.status,
        latency=latency,
        queries=queries.status,
        regressions=regression_reasons(
            queries, latency, tolerance=tolerance, confidence=confidence, drift=drift
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

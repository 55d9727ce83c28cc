"""Two runs side by side: per-endpoint deltas, findings fixed / new / remaining, regressions.

`compare(before, after)` is pure; `reporting.schema` reads and writes the result as
`compare.json` (`perftoolkit.compare/1`), and the HTML and Markdown views render it.

A regression is an endpoint present in both runs whose worst request ran more queries
(`queries.max` rose), or whose p95 latency rose by more than `tolerance` (a fraction of the
before value: 0.10 allows +10 %). Query counts are exact, so any rise counts; latency is noisy,
so it gets the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perftoolkit.core.findings import Finding
from perftoolkit.core.run import AuditRun, EndpointStats

SCHEMA = "perftoolkit.compare/1"

# Below this a latency rise is float noise, not a change (values are milliseconds).
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Delta:
    """A number before and after; `None` where a run has no value for it."""

    before: float | None
    after: float | None

    @property
    def change(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def ratio(self) -> float | None:
        """The change as a fraction of the before value (0.25 = +25 %); None from zero."""
        change = self.change
        if change is None or not self.before:
            return None
        return change / self.before

    def to_dict(self) -> dict[str, float | None]:
        change, ratio = self.change, self.ratio
        return {
            "before": self.before,
            "after": self.after,
            "change": None if change is None else round(change, 4),
            "ratio": None if ratio is None else round(ratio, 4),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Delta:
        data = data or {}
        return cls(before=data.get("before"), after=data.get("after"))


@dataclass(frozen=True, slots=True)
class RunRef:
    """Which run a side of the comparison is."""

    label: str
    started_at: str
    finished_at: str
    complete: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "complete": self.complete,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRef:
        return cls(
            label=str(data["label"]),
            started_at=str(data.get("started_at", "")),
            finished_at=str(data.get("finished_at", "")),
            complete=bool(data.get("complete", True)),
        )

    @classmethod
    def of(cls, run: AuditRun) -> RunRef:
        return cls(run.label, run.started_at, run.finished_at, run.complete)


@dataclass(frozen=True, slots=True)
class EndpointDelta:
    """One endpoint present in both runs."""

    method: str
    route: str
    requests: Delta
    queries_min: Delta
    queries_median: Delta
    queries_max: Delta
    duplicates: Delta
    db_ms_median: Delta
    db_ms_p95: Delta
    latency_p50: Delta
    latency_p95: Delta
    latency_p99: Delta
    cache_hit_ratio: Delta
    findings: Delta
    budget_before: str
    budget_after: str
    regressions: tuple[str, ...] = ()  # why this endpoint regressed; empty when it did not

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "route": self.route,
            "requests": self.requests.to_dict(),
            "queries": {
                "min": self.queries_min.to_dict(),
                "median": self.queries_median.to_dict(),
                "max": self.queries_max.to_dict(),
            },
            "duplicates": self.duplicates.to_dict(),
            "db_ms": {"median": self.db_ms_median.to_dict(), "p95": self.db_ms_p95.to_dict()},
            "latency_ms": {
                "p50": self.latency_p50.to_dict(),
                "p95": self.latency_p95.to_dict(),
                "p99": self.latency_p99.to_dict(),
            },
            "cache_hit_ratio": self.cache_hit_ratio.to_dict(),
            "findings": self.findings.to_dict(),
            "budget": {"before": self.budget_before, "after": self.budget_after},
            "regressions": list(self.regressions),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointDelta:
        queries = data.get("queries") or {}
        db_ms = data.get("db_ms") or {}
        latency = data.get("latency_ms") or {}
        budget = data.get("budget") or {}
        return cls(
            method=str(data["method"]),
            route=str(data["route"]),
            requests=Delta.from_dict(data.get("requests")),
            queries_min=Delta.from_dict(queries.get("min")),
            queries_median=Delta.from_dict(queries.get("median")),
            queries_max=Delta.from_dict(queries.get("max")),
            duplicates=Delta.from_dict(data.get("duplicates")),
            db_ms_median=Delta.from_dict(db_ms.get("median")),
            db_ms_p95=Delta.from_dict(db_ms.get("p95")),
            latency_p50=Delta.from_dict(latency.get("p50")),
            latency_p95=Delta.from_dict(latency.get("p95")),
            latency_p99=Delta.from_dict(latency.get("p99")),
            cache_hit_ratio=Delta.from_dict(data.get("cache_hit_ratio")),
            findings=Delta.from_dict(data.get("findings")),
            budget_before=str(budget.get("before", "none")),
            budget_after=str(budget.get("after", "none")),
            regressions=tuple(str(r) for r in data.get("regressions", [])),
        )


@dataclass(frozen=True, slots=True)
class EndpointRef:
    """An endpoint only one of the runs has."""

    method: str
    route: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"

    def to_dict(self) -> dict[str, str]:
        return {"method": self.method, "route": self.route}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointRef:
        return cls(method=str(data["method"]), route=str(data["route"]))


@dataclass(frozen=True, slots=True)
class FindingChange:
    """A finding (matched by id across runs) and how many queries per request it cost each side."""

    id: str
    kind: str
    method: str
    route: str
    severity: str
    message: str
    callsite: str | None  # "file:line"
    repeats: Delta

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "method": self.method,
            "route": self.route,
            "severity": self.severity,
            "message": self.message,
            "callsite": self.callsite,
            "repeats": self.repeats.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FindingChange:
        return cls(
            id=str(data["id"]),
            kind=str(data["kind"]),
            method=str(data.get("method", "")),
            route=str(data.get("route", "")),
            severity=str(data.get("severity", "warning")),
            message=str(data.get("message", "")),
            callsite=data.get("callsite"),
            repeats=Delta.from_dict(data.get("repeats")),
        )


@dataclass(frozen=True, slots=True)
class Totals:
    """Run-wide figures. Latency percentiles are over all requests (from the load test)."""

    endpoints: Delta
    requests: Delta
    queries: Delta  # statements executed in all recorded requests
    queries_per_request: Delta
    findings: Delta
    latency_p50: Delta
    latency_p95: Delta
    latency_p99: Delta
    failures: Delta
    cache_hit_ratio: Delta

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoints": self.endpoints.to_dict(),
            "requests": self.requests.to_dict(),
            "queries": self.queries.to_dict(),
            "queries_per_request": self.queries_per_request.to_dict(),
            "findings": self.findings.to_dict(),
            "latency_ms": {
                "p50": self.latency_p50.to_dict(),
                "p95": self.latency_p95.to_dict(),
                "p99": self.latency_p99.to_dict(),
            },
            "failures": self.failures.to_dict(),
            "cache_hit_ratio": self.cache_hit_ratio.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Totals:
        latency = data.get("latency_ms") or {}
        return cls(
            endpoints=Delta.from_dict(data.get("endpoints")),
            requests=Delta.from_dict(data.get("requests")),
            queries=Delta.from_dict(data.get("queries")),
            queries_per_request=Delta.from_dict(data.get("queries_per_request")),
            findings=Delta.from_dict(data.get("findings")),
            latency_p50=Delta.from_dict(latency.get("p50")),
            latency_p95=Delta.from_dict(latency.get("p95")),
            latency_p99=Delta.from_dict(latency.get("p99")),
            failures=Delta.from_dict(data.get("failures")),
            cache_hit_ratio=Delta.from_dict(data.get("cache_hit_ratio")),
        )


@dataclass(frozen=True, slots=True)
class Comparison:
    before: RunRef
    after: RunRef
    tolerance: float
    totals: Totals
    endpoints: tuple[EndpointDelta, ...]  # in both runs, ordered by route then method
    only_before: tuple[EndpointRef, ...]
    only_after: tuple[EndpointRef, ...]
    findings_fixed: tuple[FindingChange, ...]
    findings_new: tuple[FindingChange, ...]
    findings_remaining: tuple[FindingChange, ...]
    schema: str = SCHEMA

    @property
    def regressions(self) -> tuple[EndpointDelta, ...]:
        """The endpoints that regressed, in endpoint order."""
        return tuple(e for e in self.endpoints if e.regressions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "tolerance": self.tolerance,
            "totals": self.totals.to_dict(),
            "endpoints": [e.to_dict() for e in self.endpoints],
            "only_before": [e.to_dict() for e in self.only_before],
            "only_after": [e.to_dict() for e in self.only_after],
            "findings": {
                "fixed": [f.to_dict() for f in self.findings_fixed],
                "new": [f.to_dict() for f in self.findings_new],
                "remaining": [f.to_dict() for f in self.findings_remaining],
            },
            # Derived from `endpoints`, written out for CI consumers that only want the verdict.
            "regressions": [
                {"method": e.method, "route": e.route, "reasons": list(e.regressions)}
                for e in self.regressions
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        """Read a compare.json dict; the schema is checked by `reporting.schema`, not here."""
        findings = data.get("findings") or {}
        return cls(
            schema=str(data.get("schema", SCHEMA)),
            before=RunRef.from_dict(data["before"]),
            after=RunRef.from_dict(data["after"]),
            tolerance=float(data.get("tolerance", 0.10)),
            totals=Totals.from_dict(data.get("totals") or {}),
            endpoints=tuple(EndpointDelta.from_dict(e) for e in data.get("endpoints", [])),
            only_before=tuple(EndpointRef.from_dict(e) for e in data.get("only_before", [])),
            only_after=tuple(EndpointRef.from_dict(e) for e in data.get("only_after", [])),
            findings_fixed=tuple(FindingChange.from_dict(f) for f in findings.get("fixed", [])),
            findings_new=tuple(FindingChange.from_dict(f) for f in findings.get("new", [])),
            findings_remaining=tuple(
                FindingChange.from_dict(f) for f in findings.get("remaining", [])
            ),
        )


def compare(before: AuditRun, after: AuditRun, *, tolerance: float = 0.10) -> Comparison:
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


def regression_reasons(
    queries_max: Delta, latency_p95: Delta, *, tolerance: float
) -> tuple[str, ...]:
    """Why an endpoint regressed (empty when it did not), one sentence per broken rule."""
    reasons = []
    change = queries_max.change
    if change is not None and change > 0:
        reasons.append(
            f"queries.max rose from {_num(queries_max.before)} to {_num(queries_max.after)}"
        )
    before, after = latency_p95.before, latency_p95.after
    if before is not None and after is not None and after - before > tolerance * before + _EPSILON:
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
    return EndpointDelta(
        method=old.method,
        route=old.route,
        requests=Delta(old.requests, new.requests),
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
        regressions=regression_reasons(queries_max, latency_p95, tolerance=tolerance),
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

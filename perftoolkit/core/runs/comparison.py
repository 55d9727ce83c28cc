"""The value types of a comparison of two runs (`compare.json`, `perftoolkit.compare/1`).

`core.compare.compare()` builds them; `reporting.schema` reads and writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perftoolkit.core.latency import DEFAULT_CONFIDENCE, NOT_RECORDED, Drift, LatencyVerdict
from perftoolkit.core.runs.run import AuditRun

SCHEMA = "perftoolkit.compare/1"
# The smallest latency change that counts, as a fraction of the before value (0.10: +10 %).
DEFAULT_TOLERANCE = 0.10


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
    latency: LatencyVerdict = NOT_RECORDED  # the rank test's verdict on its durations
    queries: str = "not_judged"  # more | fewer | same | not_judged, exactly (see core.runs.paths)

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
            "latency": self.latency.to_dict(),
            "queries_verdict": self.queries,
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
            latency=LatencyVerdict.from_dict(data.get("latency")),
            queries=str(data.get("queries_verdict", "not_judged")),
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
    confidence: float = DEFAULT_CONFIDENCE  # of the latency tests
    drift: Drift | None = None  # how much the whole run's latency moved (None: not estimated)

    @property
    def regressions(self) -> tuple[EndpointDelta, ...]:
        """The endpoints that regressed, in endpoint order."""
        return tuple(e for e in self.endpoints if e.regressions)

    @property
    def not_judged(self) -> tuple[EndpointDelta, ...]:
        """The endpoints whose latency was not judged (too few requests, no durations)."""
        return tuple(e for e in self.endpoints if not e.latency.judged)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "tolerance": self.tolerance,
            "confidence": self.confidence,
            "drift": self.drift.to_dict() if self.drift else None,
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
            tolerance=float(data.get("tolerance", DEFAULT_TOLERANCE)),
            confidence=float(data.get("confidence", DEFAULT_CONFIDENCE)),
            drift=Drift.from_dict(data.get("drift")),
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

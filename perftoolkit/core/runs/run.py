"""AuditRun: the record of a run (recorded requests, optional load statistics, findings).

`build_run()` turns request profiles into one; `reporting.schema` turns it into report.json and
back. Everything here is plain data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from perftoolkit.core.events import CacheStats, RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding, IgnoredFinding, IndexAdvice
from perftoolkit.core.fingerprint import repeat_keys
from perftoolkit.core.latency import Histogram
from perftoolkit.core.runs.loadstats import LoadStats
from perftoolkit.core.runs.paths import QueryPath

SCHEMA = "perftoolkit.audit/1"

Detector = Callable[[RequestProfile, DetectionOptions], list[Finding]]
# Splits a request's findings into those kept and those an ignore rule silenced
# (`core.diagnosis.ignore.IgnoreFilter`).
FindingFilter = Callable[[Sequence[Finding]], tuple[list[Finding], list[IgnoredFinding]]]


def _plain(value: float | None) -> float | None:
    """Rounded to 3 places, and a whole number as an int: JSON reads 7, not 7.0, and a report
    written, read and written again is byte-identical."""
    if value is None:
        return None
    value = round(float(value), 3)
    return int(value) if value.is_integer() else value


def iso_utc(timestamp: float) -> str:
    """UNIX time → `2026-11-23T12:00:00Z` (second precision, UTC)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    limits: dict[str, float] = field(default_factory=dict)
    status: str = "none"  # ok | exceeded | none
    exceeded: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"limits": dict(self.limits), "status": self.status, "exceeded": list(self.exceeded)}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> BudgetStatus:
        data = data or {}
        return cls(
            limits=dict(data.get("limits", {})),
            status=str(data.get("status", "none")),
            exceeded=tuple(data.get("exceeded", [])),
        )


@dataclass(frozen=True, slots=True)
class EndpointStats:
    method: str
    route: str
    view: str
    requests: int
    status_codes: dict[str, int]
    queries_min: int | None
    queries_median: float | None
    queries_max: int | None
    duplicates_median: float
    db_ms_median: float
    db_ms_p95: float
    latency_p50: float | None
    latency_p95: float | None
    latency_p99: float | None
    latency_source: str  # locust | middleware | none
    cache: CacheStats = field(default_factory=CacheStats)
    budget: BudgetStatus = field(default_factory=BudgetStatus)
    finding_ids: tuple[str, ...] = ()
    failures: int = 0
    # Exact duplicates in the worst request (None in reports written before it was recorded).
    duplicates_max: int | None = None
    # Every recorded request's server-side duration, bucketed: what a comparison's rank test
    # reads (`duration_histogram` in report.json, written by `reporting.schema`).
    durations: Histogram = field(default_factory=Histogram)
    # The same requests' time minus what their thread waited for a CPU, where the audit could
    # measure it (`active_histogram` in report.json); empty otherwise.
    active: Histogram = field(default_factory=Histogram)
    # The requests grouped by the statements they ran, for comparing query counts path by path
    # (`query_paths` in report.json, written by `reporting.schema`).
    query_paths: tuple[QueryPath, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "route": self.route,
            "view": self.view,
            "requests": self.requests,
            "status_codes": dict(self.status_codes),
            "queries": {
                "min": self.queries_min,
                "median": _plain(self.queries_median),
                "max": self.queries_max,
            },
            "duplicates": _plain(self.duplicates_median),
            "duplicates_max": self.duplicates_max,
            "db_ms": {"median": _plain(self.db_ms_median), "p95": _plain(self.db_ms_p95)},
            "latency_ms": {
                "p50": _plain(self.latency_p50),
                "p95": _plain(self.latency_p95),
                "p99": _plain(self.latency_p99),
            },
            "latency_source": self.latency_source,
            "cache": self.cache.to_dict(),
            "budget": self.budget.to_dict(),
            "finding_ids": list(self.finding_ids),
            "failures": self.failures,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointStats:
        queries = data.get("queries") or {}
        latency = data.get("latency_ms") or {}
        db_ms = data.get("db_ms") or {}
        return cls(
            method=str(data["method"]),
            route=str(data["route"]),
            view=str(data.get("view", "")),
            requests=int(data.get("requests", 0)),
            status_codes={str(k): int(v) for k, v in (data.get("status_codes") or {}).items()},
            queries_min=queries.get("min"),
            queries_median=queries.get("median"),
            queries_max=queries.get("max"),
            duplicates_median=float(data.get("duplicates", 0) or 0),
            db_ms_median=float(db_ms.get("median", 0) or 0),
            db_ms_p95=float(db_ms.get("p95", 0) or 0),
            latency_p50=latency.get("p50"),
            latency_p95=latency.get("p95"),
            latency_p99=latency.get("p99"),
            latency_source=str(data.get("latency_source", "middleware")),
            cache=CacheStats.from_dict(data.get("cache")),
            budget=BudgetStatus.from_dict(data.get("budget")),
            finding_ids=tuple(data.get("finding_ids", [])),
            failures=int(data.get("failures", 0)),
            duplicates_max=data.get("duplicates_max"),
        )


@dataclass(frozen=True, slots=True)
class QueryStats:
    """One statement shape across the run."""

    fingerprint: str
    sql: str
    tables: tuple[str, ...]
    kind: str
    routes: tuple[str, ...]
    calls: int
    total_ms: float
    max_ms: float
    per_request_max: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "sql": self.sql,
            "tables": list(self.tables),
            "kind": self.kind,
            "routes": list(self.routes),
            "calls": self.calls,
            "total_ms": _plain(self.total_ms),
            "max_ms": _plain(self.max_ms),
            "per_request_max": self.per_request_max,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryStats:
        return cls(
            fingerprint=str(data["fingerprint"]),
            sql=str(data["sql"]),
            tables=tuple(data.get("tables", [])),
            kind=str(data.get("kind", "")),
            routes=tuple(data.get("routes", [])),
            calls=int(data.get("calls", 0)),
            total_ms=float(data.get("total_ms", 0)),
            max_ms=float(data.get("max_ms", 0)),
            per_request_max=int(data.get("per_request_max", 0)),
        )


@dataclass(frozen=True, slots=True)
class AppliedFix:
    """A finding's fix written into the source by `perf_fix --apply`, with what the replay of
    its endpoint's recorded requests showed (queries per request, the worst one)."""

    finding: str
    files: tuple[str, ...]
    queries_before: int | None
    queries_after: int | None
    verified: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding": self.finding,
            "files": list(self.files),
            "queries_before": self.queries_before,
            "queries_after": self.queries_after,
            "verified": self.verified,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppliedFix:
        return cls(
            finding=str(data["finding"]),
            files=tuple(str(f) for f in data.get("files", [])),
            queries_before=data.get("queries_before"),
            queries_after=data.get("queries_after"),
            verified=bool(data.get("verified", False)),
        )


# The environment keys a sampled recording writes (SAMPLE_RATE, SLOW_REQUEST_MS).
SAMPLE_RATE_KEY = "sample_rate"
SLOW_REQUEST_KEY = "slow_request_ms"


def sampled_at(environment: Mapping[str, str]) -> str | None:
    """ "sampled at N %" when the recording kept a fraction of the requests, else None.

    >>> sampled_at({"sample_rate": "0.01"}), sampled_at({"sample_rate": "0.125"}), sampled_at({})
    ('sampled at 1 %', 'sampled at 12.5 %', None)
    """
    try:
        rate = float(environment.get(SAMPLE_RATE_KEY, "1"))
    except ValueError:
        return None
    if not 0.0 <= rate < 1.0:
        return None
    return f"sampled at {round(rate * 100, 4):g} %"


@dataclass(frozen=True, slots=True)
class AuditRun:
    label: str
    started_at: str
    finished_at: str
    complete: bool
    environment: dict[str, str]
    endpoints: tuple[EndpointStats, ...]
    queries: tuple[QueryStats, ...]
    findings: tuple[Finding, ...]
    indexes: tuple[IndexAdvice, ...] = ()
    load: LoadStats | None = None
    cache: CacheStats = field(default_factory=CacheStats)
    notes: tuple[str, ...] = ()
    schema: str = SCHEMA
    # The record directory the run was built from (its `samples/` feed the index adviser's
    # EXPLAIN). In memory an absolute path; report.json stores it relative to the report file.
    record_dir: str | None = None
    fixes: tuple[AppliedFix, ...] = ()  # what `perf_fix --apply` wrote into the source
    # Findings an ignore rule silenced (report.json `ignored`), merged across requests.
    ignored: tuple[IgnoredFinding, ...] = ()
    # Why `complete` is false: cut short, or measured something other than what was asked
    # (too many failed requests, exceptions in the load test).
    incomplete_reason: str | None = None
    # Lines of the record directory that could not be read (a torn write, a foreign line) and
    # were left out; 0 in reports written before it was counted.
    skipped_lines: int = 0
    # Requests whose capture perftoolkit abandoned after one of its own hooks failed (the line
    # carries `capture_error`): counted here, left out of every endpoint's numbers.
    unmeasured_requests: int = 0

    def endpoint(self, method: str, route: str) -> EndpointStats | None:
        for item in self.endpoints:
            if item.method == method and item.route == route:
                return item
        return None

    def with_changes(self, **changes: Any) -> AuditRun:
        return replace(self, **changes)


def build_run(
    profiles: Iterable[RequestProfile],
    *,
    label: str,
    started_at: float,
    finished_at: float,
    environment: dict[str, str],
    detectors: Sequence[Detector],
    options: DetectionOptions,
    load: LoadStats | None = None,
    complete: bool = True,
    notes: Sequence[str] = (),
    record_dir: str | None = None,
    ignore: FindingFilter | None = None,
) -> AuditRun:
    """Aggregate request profiles (and load statistics) into a run, running every detector;
    `ignore` moves the findings its rules silence to the run's `ignored`.

    The profiles are taken in the order given (the first request decides what depends on order);
    record directories go through `RunAggregator` directly, analysing each shape once.
    """
    from perftoolkit.core.runs.aggregate import RunAggregator

    aggregator = RunAggregator(ignore=ignore)
    for index, profile in enumerate(profiles):
        aggregator.add_profile(profile, index, detectors, options)
    return aggregator.finish(
        label=label,
        started_at=started_at,
        finished_at=finished_at,
        environment=environment,
        load=load,
        complete=complete,
        notes=notes,
        record_dir=record_dir,
    )


def duplicate_count(profile: RequestProfile) -> int:
    """Statements that repeat an earlier one of the same request exactly (same SQL and params,
    and for a read no write in between to a table it reads)."""
    seen = Counter(
        key for key in repeat_keys((q.sql, q.params_key) for q in profile.queries) if key
    )
    return sum(n - 1 for n in seen.values() if n > 1)


def load_only_endpoint(method: str, route: str, load: LoadStats) -> EndpointStats:
    entry = load.entry(method, route)
    assert entry is not None
    return EndpointStats(
        method=method,
        route=route,
        view="",
        requests=entry.requests,
        status_codes={},
        queries_min=None,
        queries_median=None,
        queries_max=None,
        duplicates_median=0.0,
        db_ms_median=0.0,
        db_ms_p95=0.0,
        latency_p50=entry.p50,
        latency_p95=entry.p95,
        latency_p99=entry.p99,
        latency_source="locust",
        failures=entry.failures,
    )

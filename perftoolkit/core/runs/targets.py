"""Performance targets and how a run scores against them: the report's scorecard, as plain data.

The defaults are the success metrics an audit usually promises: P50 < 200 ms, P95 < 500 ms,
P99 < 1 s, fewer than 5 queries per request, a cache hit rate above 80 %. Every comparison is
strict: a P95 of exactly 500 ms misses a 500 ms target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from perftoolkit.core.runs.run import AuditRun, EndpointStats


@dataclass(frozen=True, slots=True)
class Targets:
    """What "good" means for a run. Keys of `PERFTOOLKIT["TARGETS"]` are these field names."""

    p50_ms: float = 200.0
    p95_ms: float = 500.0
    p99_ms: float = 1000.0
    queries: float = 5.0  # per request, judged on each endpoint's median
    cache_hit_ratio: float = 0.80  # hits / gets, 0–1

    def to_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Targets:
        """Read a mapping whose keys are field names in any case; missing keys keep the default.

        Raises ValueError naming the key for an unknown key or a value that is not a number.
        """
        known = {f.name for f in fields(cls)}
        values: dict[str, float] = {}
        for key, value in (data or {}).items():
            name = str(key).lower()
            if name not in known:
                raise ValueError(
                    f"unknown target {key!r}; known targets are {', '.join(sorted(known))}"
                )
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"target {key!r} must be a non-negative number, not {value!r}")
            values[name] = float(value)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class TargetResult:
    """One line of the scorecard."""

    name: str  # p50_ms | p95_ms | p99_ms | queries | cache_hit_ratio
    title: str
    target: float
    higher_is_better: bool
    value: float | None  # the headline figure; None when the run has nothing to judge
    basis: str  # what `value` is: "all requests", "slowest endpoint", …
    status: str  # met | missed | unknown
    endpoints_met: int
    endpoints_judged: int
    worst: str | None  # "GET api/courses/": the endpoint furthest from the target


@dataclass(frozen=True, slots=True)
class Scorecard:
    results: tuple[TargetResult, ...]

    @property
    def met(self) -> int:
        return sum(1 for r in self.results if r.status == "met")

    @property
    def missed(self) -> int:
        return sum(1 for r in self.results if r.status == "missed")


def meets(value: float, target: float, *, higher_is_better: bool = False) -> bool:
    return value > target if higher_is_better else value < target


def score(run: AuditRun, targets: Targets) -> Scorecard:
    """Judge a run against targets: latency on all requests when a load test measured them (else
    on the slowest endpoint), queries on the worst endpoint's median, cache on every read."""
    latency = tuple(
        _latency(run, name, title, target)
        for name, title, target in (
            ("p50", "P50 latency", targets.p50_ms),
            ("p95", "P95 latency", targets.p95_ms),
            ("p99", "P99 latency", targets.p99_ms),
        )
    )
    return Scorecard(results=(*latency, _queries(run, targets.queries), _cache(run, targets)))


def endpoint_latency(endpoint: EndpointStats, percentile: str) -> float | None:
    value: float | None = getattr(endpoint, f"latency_{percentile}")
    return value


def _latency(run: AuditRun, percentile: str, title: str, target: float) -> TargetResult:
    judged = [
        (latency, e.key)
        for e in run.endpoints
        if e.requests and (latency := endpoint_latency(e, percentile)) is not None
    ]
    worst = max(judged, default=None)
    total = run.load.total if run.load is not None else None
    if total is not None and total.requests:
        value: float | None = getattr(total, percentile)
        basis = "all requests"
    else:
        value = worst[0] if worst else None
        basis = "slowest endpoint"
    return TargetResult(
        name=f"{percentile}_ms",
        title=title,
        target=target,
        higher_is_better=False,
        value=value,
        basis=basis,
        status=_status(value, target, higher_is_better=False),
        endpoints_met=sum(1 for v, _ in judged if meets(v, target)),
        endpoints_judged=len(judged),
        worst=worst[1] if worst and not meets(worst[0], target) else None,
    )


def _queries(run: AuditRun, target: float) -> TargetResult:
    judged = [(e.queries_median, e.key) for e in run.endpoints if e.queries_median is not None]
    worst = max(judged, default=None)
    value = worst[0] if worst else None
    return TargetResult(
        name="queries",
        title="Queries per request",
        target=target,
        higher_is_better=False,
        value=value,
        basis="worst endpoint, median",
        status=_status(value, target, higher_is_better=False),
        endpoints_met=sum(1 for v, _ in judged if meets(v, target)),
        endpoints_judged=len(judged),
        worst=worst[1] if worst and not meets(worst[0], target) else None,
    )


def _cache(run: AuditRun, targets: Targets) -> TargetResult:
    target = targets.cache_hit_ratio
    judged = [(e.cache.hits / e.cache.gets, e.key) for e in run.endpoints if e.cache.gets]
    worst = min(judged, default=None)
    value = run.cache.hits / run.cache.gets if run.cache.gets else None
    return TargetResult(
        name="cache_hit_ratio",
        title="Cache hit rate",
        target=target,
        higher_is_better=True,
        value=value,
        basis="all cache reads",
        status=_status(value, target, higher_is_better=True),
        endpoints_met=sum(1 for v, _ in judged if meets(v, target, higher_is_better=True)),
        endpoints_judged=len(judged),
        worst=worst[1] if worst and not meets(worst[0], target, higher_is_better=True) else None,
    )


def _status(value: float | None, target: float, *, higher_is_better: bool) -> str:
    if value is None:
        return "unknown"
    return "met" if meets(value, target, higher_is_better=higher_is_better) else "missed"

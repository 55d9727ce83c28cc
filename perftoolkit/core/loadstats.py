"""Load-test statistics as plain data: per-endpoint latency percentiles from Locust's histograms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def histogram_percentile(histogram: Mapping[int, int], q: float) -> float:
    """The latency (ms) under which `q` percent of requests fall, from a {ms: count} histogram.

    The same walk Locust does over its rounded response-time buckets, so our p95 equals the
    one Locust prints for the same run.
    """
    total = sum(histogram.values())
    if total == 0:
        return 0.0
    allowed_above = int(total * q / 100)
    seen = 0
    for value in sorted(histogram, reverse=True):
        seen += histogram[value]
        if total - seen <= allowed_above:
            return float(value)
    return 0.0


@dataclass(frozen=True, slots=True)
class LoadEntry:
    """One endpoint's numbers from the load tool."""

    method: str
    route: str
    requests: int
    failures: int
    p50: float
    p95: float
    p99: float
    avg_ms: float = 0.0
    min_ms: float = 0.0
    max_ms: float = 0.0
    rps: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "route": self.route,
            "requests": self.requests,
            "failures": self.failures,
            "latency_ms": {"p50": self.p50, "p95": self.p95, "p99": self.p99},
            "avg_ms": round(self.avg_ms, 3),
            "min_ms": round(self.min_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "rps": round(self.rps, 3),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadEntry:
        latency = data.get("latency_ms", {})
        return cls(
            method=str(data["method"]),
            route=str(data["route"]),
            requests=int(data.get("requests", 0)),
            failures=int(data.get("failures", 0)),
            p50=float(latency.get("p50", 0.0)),
            p95=float(latency.get("p95", 0.0)),
            p99=float(latency.get("p99", 0.0)),
            avg_ms=float(data.get("avg_ms", 0.0)),
            min_ms=float(data.get("min_ms", 0.0)),
            max_ms=float(data.get("max_ms", 0.0)),
            rps=float(data.get("rps", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class LoadStats:
    """A whole load run: its parameters, each endpoint, and the aggregate."""

    tool: str
    users: int
    spawn_rate: float
    run_time_s: float
    workers: int
    profiles: tuple[str, ...]
    entries: tuple[LoadEntry, ...]
    total: LoadEntry

    def entry(self, method: str, route: str) -> LoadEntry | None:
        for item in self.entries:
            if item.method == method and item.route == route:
                return item
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "users": self.users,
            "spawn_rate": self.spawn_rate,
            "run_time_s": self.run_time_s,
            "workers": self.workers,
            "profiles": list(self.profiles),
            "entries": [e.to_dict() for e in self.entries],
            "total": self.total.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> LoadStats | None:
        if not data:
            return None
        return cls(
            tool=str(data.get("tool", "locust")),
            users=int(data.get("users", 0)),
            spawn_rate=float(data.get("spawn_rate", 0)),
            run_time_s=float(data.get("run_time_s", 0)),
            workers=int(data.get("workers", 0)),
            profiles=tuple(data.get("profiles", [])),
            entries=tuple(LoadEntry.from_dict(e) for e in data.get("entries", [])),
            total=LoadEntry.from_dict(data["total"]),
        )

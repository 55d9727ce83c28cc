"""Load-test statistics as plain data: per-endpoint latency percentiles from Locust's histograms.

Locust's `--json-file` output is a list of stats entries, each with a `response_times` histogram
(`{"ms": count}`, milliseconds rounded to about two significant digits). `parse_locust_json`
reads it, `load_stats_from_locust` groups the entries by endpoint and computes the percentiles
with the same walk Locust uses, so the numbers match the ones Locust prints for the same run.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perftoolkit.core.latency import Histogram
from perftoolkit.core.runs.taskerrors import LoadException


def histogram_percentile(histogram: Mapping[int, int], q: float) -> float:
    """The latency (ms) under which `q` percent of requests fall, from a {ms: count} histogram.

    The same walk Locust does over its rounded response-time buckets, so our p95 equals the
    one Locust prints for the same run.
    """
    total = sum(histogram.values())
    if total == 0:
        return 0.0
    # int(total * fraction), exactly as Locust rounds (not total * q // 100).
    allowed_above = int(total * (q / 100))
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
    # Locust's response times, for the rank test of a comparison (empty from the CSV fallback);
    # written to report.json by `reporting.schema` as `load.entries[].histogram`.
    histogram: Histogram = field(default_factory=Histogram)

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
    # What Locust's tasks raised (`load.exceptions` in report.json, see `reporting.schema`).
    exceptions: tuple[LoadException, ...] = ()

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


@dataclass(frozen=True, slots=True)
class LocustEntry:
    """One entry of Locust's JSON stats: a request name and method, with its histogram."""

    name: str
    method: str
    requests: int
    failures: int
    none_requests: int = 0
    total_ms: float = 0.0
    min_ms: float | None = None
    max_ms: float = 0.0
    started_at: float = 0.0
    last_request_at: float | None = None
    histogram: Mapping[int, int] = field(default_factory=dict)

    @classmethod
    def from_locust(cls, data: Any) -> LocustEntry:
        """Read one `StatsEntryDict`; a ValueError names the field that is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a stats entry is not a JSON object")
        try:
            histogram = {
                int(_measure(k)): _count(v) for k, v in (data.get("response_times") or {}).items()
            }
            min_ms = data.get("min_response_time")
            last = data.get("last_request_timestamp")
            return cls(
                name=str(data["name"]),
                method=str(data.get("method") or ""),
                requests=_count(data["num_requests"]),
                failures=_count(data.get("num_failures", 0)),
                none_requests=_count(data.get("num_none_requests", 0)),
                total_ms=_measure(data.get("total_response_time", 0.0)),
                min_ms=None if min_ms is None else _measure(min_ms),
                max_ms=_measure(data.get("max_response_time", 0.0) or 0.0),
                started_at=_measure(data.get("start_time", 0.0) or 0.0),
                last_request_at=None if last is None else _measure(last),
                histogram=histogram,
            )
        except KeyError as exc:
            raise ValueError(f"a stats entry has no {exc.args[0]!r}") from None
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise ValueError(f"a stats entry has a malformed value ({exc})") from None

    def merged(self, other: LocustEntry) -> LocustEntry:
        """Both entries as one (two request names that are the same endpoint)."""
        histogram = dict(self.histogram)
        for ms, count in other.histogram.items():
            histogram[ms] = histogram.get(ms, 0) + count
        mins = [m for m in (self.min_ms, other.min_ms) if m is not None]
        lasts = [t for t in (self.last_request_at, other.last_request_at) if t is not None]
        starts = [t for t in (self.started_at, other.started_at) if t]
        return LocustEntry(
            name=self.name,
            method=self.method,
            requests=self.requests + other.requests,
            failures=self.failures + other.failures,
            none_requests=self.none_requests + other.none_requests,
            total_ms=self.total_ms + other.total_ms,
            min_ms=min(mins) if mins else None,
            max_ms=max(self.max_ms, other.max_ms),
            started_at=min(starts) if starts else 0.0,
            last_request_at=max(lasts) if lasts else None,
            histogram=histogram,
        )

    def percentile(self, q: float) -> float:
        return histogram_percentile(self.histogram, q)


def _measure(value: Any) -> float:
    """A time, rate or timestamp Locust wrote: finite and not negative, or ValueError (a report
    must not carry NaN or -1 ms into its verdicts)."""
    number = float(value)
    if not (math.isfinite(number) and 0 <= number <= 1e15):
        raise ValueError(f"{value!r} is not a measurement")
    return number


def _count(value: Any) -> int:
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{value!r} is not a count")
    number = int(value)
    if not 0 <= number <= 2**53:
        raise ValueError(f"{value!r} is not a count")
    return number


def parse_locust_json(data: Any) -> list[LocustEntry]:
    """Locust's `--json-file` content (a list of stats entries) → entries with requests."""
    if not isinstance(data, list):
        raise ValueError("Locust's JSON stats are a list of entries; this is not a list")
    entries = []
    for index, item in enumerate(data):
        try:
            entry = LocustEntry.from_locust(item)
        except ValueError as exc:
            raise ValueError(f"entry {index}: {exc}") from None
        if entry.requests or entry.failures:
            entries.append(entry)
    return entries


def load_stats_from_locust(
    entries: Sequence[LocustEntry],
    *,
    route_for: Callable[[str], str],
    users: int,
    spawn_rate: float,
    run_time_s: float,
    workers: int = 0,
    profiles: Sequence[str] = (),
) -> LoadStats:
    """Group Locust's entries by endpoint (`route_for` maps a request name to its route pattern)."""
    grouped: dict[tuple[str, str], LocustEntry] = {}
    for entry in entries:
        key = (entry.method, route_for(entry.name))
        previous = grouped.get(key)
        grouped[key] = entry if previous is None else previous.merged(entry)
    window = _window_s(entries)
    loads = [_load_entry(method, route, e, window) for (method, route), e in grouped.items()]
    loads.sort(key=lambda e: (e.route, e.method))
    total = _total(entries)
    return LoadStats(
        tool="locust",
        users=users,
        spawn_rate=spawn_rate,
        run_time_s=round(run_time_s, 3),
        workers=workers,
        profiles=tuple(profiles),
        entries=tuple(loads),
        total=_load_entry("", "Aggregated", total, window),
    )


def _total(entries: Iterable[LocustEntry]) -> LocustEntry:
    total = LocustEntry(name="Aggregated", method="", requests=0, failures=0)
    for entry in entries:
        total = total.merged(entry)
    return total


def _window_s(entries: Sequence[LocustEntry]) -> float:
    """Seconds from the first request started to the last one, over the whole run (as Locust)."""
    starts = [e.started_at for e in entries if e.started_at]
    lasts = [e.last_request_at for e in entries if e.last_request_at is not None]
    if not starts or not lasts:
        return 0.0
    return max(0.0, max(lasts) - min(starts))


def _load_entry(method: str, route: str, entry: LocustEntry, window_s: float) -> LoadEntry:
    timed = entry.requests - entry.none_requests
    return LoadEntry(
        method=method,
        route=route,
        requests=entry.requests,
        failures=entry.failures,
        p50=entry.percentile(50),
        p95=entry.percentile(95),
        p99=entry.percentile(99),
        avg_ms=entry.total_ms / timed if timed > 0 else 0.0,
        min_ms=entry.min_ms or 0.0,
        max_ms=entry.max_ms,
        rps=entry.requests / window_s if window_s > 0 else 0.0,
        histogram=Histogram.from_counts(entry.histogram),
    )


@dataclass(frozen=True, slots=True)
class LocustCsvRow:
    """One row of Locust's `<prefix>_stats.csv`: Locust's own numbers, percentiles included."""

    method: str
    name: str
    requests: int
    failures: int
    avg_ms: float
    min_ms: float
    max_ms: float
    rps: float
    percentiles: Mapping[str, float]  # {"50%": 12.0, "95%": 40.0, ...}; N/A rows are left out


def parse_locust_csv(text: str) -> list[LocustCsvRow]:
    """Locust's stats CSV (written every second while it runs) → rows, the `Aggregated` one included."""
    rows = []
    for record in csv.DictReader(io.StringIO(text)):
        try:
            percentiles = {
                k: _measure(v)
                for k, v in record.items()
                if k and k.endswith("%") and v not in ("N/A", "")
            }
            rows.append(
                LocustCsvRow(
                    method=record["Type"],
                    name=record["Name"],
                    requests=_count(record["Request Count"]),
                    failures=_count(record["Failure Count"]),
                    avg_ms=_measure(record["Average Response Time"]),
                    min_ms=_measure(record["Min Response Time"]),
                    max_ms=_measure(record["Max Response Time"]),
                    rps=_measure(record["Requests/s"]),
                    percentiles=percentiles,
                )
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"Locust stats CSV row {record!r} is malformed ({exc})") from None
    return rows


def load_stats_from_csv(
    rows: Sequence[LocustCsvRow],
    *,
    route_for: Callable[[str], str],
    users: int,
    spawn_rate: float,
    run_time_s: float,
    workers: int = 0,
    profiles: Sequence[str] = (),
) -> LoadStats:
    """The fallback when Locust died before writing its JSON: its last stats CSV, as it printed it.

    Without histograms two names of one endpoint cannot be merged exactly, so the busier one's
    percentiles stand for both.
    """
    by_key: dict[tuple[str, str], LoadEntry] = {}
    total: LoadEntry | None = None
    for row in rows:
        if row.name == "Aggregated" and not row.method:
            total = _csv_entry("", "Aggregated", row)
            continue
        key = (row.method, route_for(row.name))
        entry = _csv_entry(*key, row)
        previous = by_key.get(key)
        if previous is not None:
            busier = entry if entry.requests > previous.requests else previous
            entry = LoadEntry(
                method=key[0],
                route=key[1],
                requests=previous.requests + entry.requests,
                failures=previous.failures + entry.failures,
                p50=busier.p50,
                p95=busier.p95,
                p99=busier.p99,
                avg_ms=busier.avg_ms,
                min_ms=min(previous.min_ms, entry.min_ms),
                max_ms=max(previous.max_ms, entry.max_ms),
                rps=previous.rps + entry.rps,
            )
        by_key[key] = entry
    entries = tuple(sorted(by_key.values(), key=lambda e: (e.route, e.method)))
    if total is None:
        total = LoadEntry("", "Aggregated", sum(e.requests for e in entries), 0, 0.0, 0.0, 0.0)
    return LoadStats(
        tool="locust",
        users=users,
        spawn_rate=spawn_rate,
        run_time_s=round(run_time_s, 3),
        workers=workers,
        profiles=tuple(profiles),
        entries=entries,
        total=total,
    )


def _csv_entry(method: str, route: str, row: LocustCsvRow) -> LoadEntry:
    return LoadEntry(
        method=method,
        route=route,
        requests=row.requests,
        failures=row.failures,
        p50=row.percentiles.get("50%", 0.0),
        p95=row.percentiles.get("95%", 0.0),
        p99=row.percentiles.get("99%", 0.0),
        avg_ms=row.avg_ms,
        min_ms=row.min_ms,
        max_ms=row.max_ms,
        rps=row.rps,
    )


@dataclass(frozen=True, slots=True)
class LoadProgress:
    """Where a running load test is: totals so far and the current request rate."""

    requests: int
    failures: int
    rps: float


# Locust's periodic console table ends with this line (headless, every two seconds):
#          Aggregated      211     0(0.00%) |      5       2      39      5 |   51.00        0.00
_AGGREGATED = re.compile(
    r"^\s*Aggregated\s+(?P<requests>\d+)\s+(?P<failures>\d+)\([\d.]+%\)\s*\|[^|]*\|\s*(?P<rps>[\d.]+)"
)


def parse_progress_line(line: str) -> LoadProgress | None:
    """The `Aggregated` line of Locust's console table → progress; None for any other line."""
    match = _AGGREGATED.match(line)
    if match is None:
        return None
    return LoadProgress(
        requests=int(match["requests"]),
        failures=int(match["failures"]),
        rps=float(match["rps"]),
    )

"""The report build as it was before it streamed: every request in memory, sorted by start, every
request analysed on its own. Kept as the oracle the streaming build (`core.runs.aggregate` fed by
`middleware.recording`) is held byte-equal to on the same record directories."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from perftoolkit.core.diagnosis import load_detectors
from perftoolkit.core.events import CacheStats, RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding, merge_findings
from perftoolkit.core.fingerprint import statement_kind, tables
from perftoolkit.core.latency import Histogram
from perftoolkit.core.runs.paths import query_paths
from perftoolkit.core.runs.run import (
    AuditRun,
    Detector,
    EndpointStats,
    QueryStats,
    duplicate_count,
    iso_utc,
)
from perftoolkit.core.stats import median, percentile


def reference_report(
    directories: Sequence[Path],
    *,
    label: str,
    detectors: Sequence[Detector] | None = None,
    options: DetectionOptions | None = None,
) -> AuditRun:
    """Valid, measured lines only (the old reader refused a directory with a bad line in
    mid-file; a line with `capture_error` measured nothing)."""
    profiles: list[RequestProfile] = []
    unmeasured = 0
    for directory in directories:
        for file in sorted(directory.glob("*.jsonl")):
            for raw in file.read_bytes().split(b"\n"):
                if not raw.strip():
                    continue
                data = json.loads(raw)
                if "capture_error" in data:
                    unmeasured += 1
                else:
                    profiles.append(RequestProfile.from_dict(data))
    profiles.sort(key=lambda p: p.started_at)
    detectors = detectors if detectors is not None else load_detectors()
    options = options or DetectionOptions()
    by_endpoint: dict[tuple[str, str], list[RequestProfile]] = defaultdict(list)
    found: list[Finding] = []
    read: set[tuple[tuple[str, str], Any, str]] = set()  # eager loads some request read whole
    for profile in profiles:
        by_endpoint[profile.endpoint].append(profile)
        mine: dict[str, Finding] = {}
        for detect in detectors:
            for finding in detect(profile, options):  # one per id and request, the worst
                if finding.id not in mine or finding.repeats > mine[finding.id].repeats:
                    mine[finding.id] = finding
        found.extend(mine.values())
        read |= {
            (profile.endpoint, load.callsite or profile.queryset_site, load.path)
            for load in profile.eager_loads
            if load.hops and all(hop in profile.accessed for hop in load.hops)
        }
    findings = merge_findings(
        [
            f
            for f in found
            if f.kind != "unused_eager_load"
            or ((f.method, f.route), f.callsite, f.path or "") not in read
        ]
    )
    endpoints = sorted(
        (_endpoint(key, items, findings) for key, items in by_endpoint.items()),
        key=lambda e: (e.route, e.method),
    )
    return AuditRun(
        label=label,
        started_at=iso_utc(min(p.started_at for p in profiles)),
        finished_at=iso_utc(max(p.started_at + p.duration_ms / 1000 for p in profiles)),
        complete=True,
        environment={},
        endpoints=tuple(endpoints),
        queries=tuple(_queries(by_endpoint)),
        findings=tuple(findings),
        cache=sum((e.cache for e in endpoints), CacheStats()),
        unmeasured_requests=unmeasured,
    )


def _endpoint(
    key: tuple[str, str], items: list[RequestProfile], findings: list[Finding]
) -> EndpointStats:
    counts = [len(p.queries) for p in items]
    db_ms = [p.db_ms for p in items]
    durations = [p.duration_ms for p in items]
    duplicates = [duplicate_count(p) for p in items]
    return EndpointStats(
        method=key[0],
        route=key[1],
        view=next((p.view for p in items if p.view), ""),
        requests=len(items),
        status_codes=dict(sorted(Counter(str(p.status) for p in items).items())),
        queries_min=min(counts),
        queries_median=median(counts),
        queries_max=max(counts),
        duplicates_median=median(duplicates),
        duplicates_max=max(duplicates),
        db_ms_median=median(db_ms),
        db_ms_p95=percentile(db_ms, 95),
        latency_p50=round(percentile(durations, 50), 3),
        latency_p95=round(percentile(durations, 95), 3),
        latency_p99=round(percentile(durations, 99), 3),
        latency_source="middleware",
        cache=sum((p.cache for p in items), CacheStats()),
        finding_ids=tuple(f.id for f in findings if (f.method, f.route) == key),
        durations=Histogram.of(durations),
        query_paths=query_paths([q.fingerprint for q in p.queries] for p in items),
    )


def _queries(by_endpoint: dict[tuple[str, str], list[RequestProfile]]) -> list[QueryStats]:
    sql: dict[str, str] = {}
    routes: dict[str, set[str]] = defaultdict(set)
    calls: Counter[str] = Counter()
    # Summed as the decimals the recorder wrote (thousandths), exactly, as the streamed build
    # does: float sums of nearly equal totals can order two statements the other way.
    total: dict[str, Fraction] = defaultdict(Fraction)
    longest: dict[str, float] = defaultdict(float)
    per_request: dict[str, int] = defaultdict(int)
    for (method, route), items in by_endpoint.items():
        for profile in items:
            here: Counter[str] = Counter()
            for q in profile.queries:
                sql.setdefault(q.fingerprint, q.sql)
                routes[q.fingerprint].add(f"{method} {route}")
                calls[q.fingerprint] += 1
                units = round(q.ms * 1000)
                total[q.fingerprint] += (
                    Fraction(units, 1000) if units / 1000 == q.ms else Fraction(q.ms)
                )
                longest[q.fingerprint] = max(longest[q.fingerprint], q.ms)
                here[q.fingerprint] += 1
            for fp, n in here.items():
                per_request[fp] = max(per_request[fp], n)
    stats = [
        QueryStats(
            fingerprint=fp,
            sql=text,
            tables=tables(text),
            kind=statement_kind(text),
            routes=tuple(sorted(routes[fp])),
            calls=calls[fp],
            total_ms=float(total[fp]),
            max_ms=longest[fp],
            per_request_max=per_request[fp],
        )
        for fp, text in sql.items()
    ]
    return sorted(stats, key=lambda s: (-s.total_ms, s.fingerprint))

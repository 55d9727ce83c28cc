"""Requests → AuditRun, one request at a time, in bounded memory and in any order.

A request is its *shape* (endpoint, statement sequence, duplicates, findings: what the detectors
see) plus its numbers (status, view, start, duration, cache use, each query's time). Requests of one
shape are analysed once: the caller registers the shape (`register`, which runs nothing itself)
and adds each request with the handle it got back (`add`). Memory is held per endpoint, per
statement fingerprint and per distinct finding, plus eight bytes a request for the exact
percentiles (`values.py`, which spills to a file past its budget); never per request.

Every request carries an *order* (any comparable value: its index, or (started_at, file, line)),
and the result is the one `build_run` gave when it analysed the requests one by one in that
order: a value that depended on which request came first (an endpoint's view, the statement text
shown for a fingerprint, which of two equally bad findings is kept) is taken from the first
request in that order, wherever it was read. Query times are summed exactly (in thousandths of a
millisecond, as they are recorded), so the totals do not depend on the order either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from perftoolkit.core.events import CacheStats, CallSite, RequestProfile
from perftoolkit.core.findings import (
    DetectionOptions,
    Finding,
    IgnoredFinding,
    merge_findings,
    merge_ignored,
)
from perftoolkit.core.fingerprint import statement_kind, tables
from perftoolkit.core.latency import Histogram, bucket
from perftoolkit.core.runs.loadstats import LoadStats
from perftoolkit.core.runs.paths import QueryPath, path_key
from perftoolkit.core.runs.run import (
    AuditRun,
    EndpointStats,
    FindingFilter,
    QueryStats,
    duplicate_count,
    iso_utc,
    load_only_endpoint,
)
from perftoolkit.core.runs.values import ValuePool, counted_median

Detector = Callable[[RequestProfile, DetectionOptions], list[Finding]]


@dataclass(frozen=True, slots=True, eq=False)
class RequestShape:
    """What every request of one shape shares, and what the detectors made of it."""

    method: str
    route: str
    fingerprints: tuple[str, ...]  # one per query, in execution order
    statements: dict[str, str]  # fingerprint → its SQL text (the first query's)
    duplicates: int
    findings: tuple[Finding, ...]
    # Eager loads read through their whole path in this request: (their line, their path). A
    # path another request of the endpoint reads whole is not unused (`topic.category.parent`
    # read only where a topic's category has a parent).
    eager_read: frozenset[tuple[CallSite | None, str]] = frozenset()


def shape_of(
    profile: RequestProfile,
    detectors: Sequence[Detector],
    options: DetectionOptions,
    on_error: Callable[[Detector, Exception], None] | None = None,
) -> RequestShape:
    """Run the detectors on one request and keep what its shape's requests share.

    With `on_error`, a detector that raises is reported to it and contributes nothing (a reader
    of recordings must not stop at one request a detector cannot handle); without, it raises.
    """
    statements: dict[str, str] = {}
    for query in profile.queries:
        statements.setdefault(query.fingerprint, query.sql)
    findings: list[Finding] = []
    for detect in detectors:
        if on_error is None:
            findings.extend(detect(profile, options))
            continue
        try:
            findings.extend(detect(profile, options))
        except Exception as exc:
            on_error(detect, exc)
    return RequestShape(
        method=profile.method,
        route=profile.route,
        fingerprints=tuple(q.fingerprint for q in profile.queries),
        statements=statements,
        duplicates=duplicate_count(profile),
        findings=tuple(findings),
        eager_read=frozenset(
            (load.callsite or profile.queryset_site, load.path)
            for load in profile.eager_loads
            if load.hops and all(hop in profile.accessed for hop in load.hops)
        ),
    )


class _Endpoint:
    __slots__ = (
        "key",
        "first",
        "requests",
        "statuses",
        "view",
        "view_order",
        "gets",
        "hits",
        "durations",
        "db_ms",
        "counts",
        "duplicates",
        "histogram",
        "paths",
    )

    def __init__(self, key: tuple[str, str], pool: ValuePool) -> None:
        self.key = key
        self.first: Any = None
        self.requests = 0
        self.statuses: Counter[int] = Counter()
        self.view = ""
        self.view_order: Any = None
        self.gets = 0
        self.hits = 0
        self.durations = pool.column()
        self.db_ms = pool.column()
        self.counts: Counter[int] = Counter()
        self.duplicates: Counter[int] = Counter()
        # Every request's duration, bucketed (`core.latency`): what latency verdicts compare.
        self.histogram: Counter[float] = Counter()
        # Per query path (the set of statement shapes a request ran): [requests, min, max].
        self.paths: dict[str, list[int]] = {}


class _Statement:
    """One fingerprint across the run."""

    __slots__ = ("fingerprint", "units", "odd", "longest", "calls", "per_request", "routes", "sql")

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.units = 0  # the sum of the times that are whole thousandths of a millisecond
        self.odd: list[float] = []  # the others, as exact partial sums (msum)
        self.longest = 0.0
        self.calls = 0
        self.per_request = 0
        self.routes: set[str] = set()
        # per endpoint: [order of the first request showing it, its SQL text]
        self.sql: dict[tuple[str, str], list[Any]] = {}

    def add_odd(self, value: float) -> None:
        # Shewchuk's exact summation (the recipe math.fsum is built on), kept incrementally.
        partials = self.odd
        i = 0
        for partial in partials:
            if abs(value) < abs(partial):
                value, partial = partial, value
            high = value + partial
            low = partial - (high - value)
            if low:
                partials[i] = low
                i += 1
            value = high
        partials[i:] = [value]

    def total(self) -> float:
        if not self.odd:
            return self.units / 1000
        return float(Fraction(self.units, 1000) + sum(map(Fraction, self.odd), Fraction(0)))


class _FindingEntry:
    __slots__ = ("finding", "first", "requests", "rule")

    def __init__(self, finding: Finding, first: Any, rule: str | None = None) -> None:
        self.finding = finding
        self.first = first
        self.requests = 0
        self.rule = rule  # the ignore rule that silenced it; None for a finding kept


class ShapeHandle:
    """A registered shape's running state; pass it to `RunAggregator.add` for its requests."""

    __slots__ = (
        "endpoint",
        "first",
        "slots",
        "calls",
        "count",
        "duplicates",
        "findings",
        "sql",
        "path",
    )

    def __init__(self) -> None:
        self.endpoint: _Endpoint
        self.first: Any = None
        self.slots: list[_Statement] = []
        self.calls: list[tuple[_Statement, int]] = []
        self.count = 0
        self.duplicates = 0
        self.findings: list[_FindingEntry] = []  # kept and ignored alike: each counts requests
        self.sql: list[tuple[_Statement, str]] = []
        self.path = ""


def _one_per_id(findings: Sequence[Finding]) -> list[Finding]:
    """One request's findings, one per id: two lines of one function reading one relation per row
    (three per-row counts of a queue's tickets, filtered differently) are one finding, the worst,
    counted once for the request."""
    if len(findings) < 2:
        return list(findings)
    best: dict[str, Finding] = {}
    for finding in findings:
        known = best.get(finding.id)
        if known is None or finding.repeats > known.repeats:
            best[finding.id] = finding
    return [f for f in findings if best[f.id] is f]


class RunAggregator:
    """Feed requests with `add` (or `add_profile`), then `finish` into an AuditRun."""

    def __init__(
        self, pool: ValuePool | None = None, *, ignore: FindingFilter | None = None
    ) -> None:
        self.pool = pool or ValuePool()
        self.ignore = ignore
        self.endpoints: dict[tuple[str, str], _Endpoint] = {}
        self.statements: dict[str, _Statement] = {}
        self.findings: dict[Finding, _FindingEntry] = {}
        self.ignored: dict[tuple[Finding, str], _FindingEntry] = {}
        # (method, route), line, path of the eager loads some request read through whole
        self.eager_read: set[tuple[tuple[str, str], CallSite | None, str]] = set()
        # line, path of the eager loads a request of any endpoint read through whole: a line
        # shared by several endpoints (a middleware's, a helper's) serves those that read it
        self.eager_read_anywhere: set[tuple[CallSite, str]] = set()
        self.requests = 0
        self.started: float | None = None
        self.finished: float | None = None

    def register(self, shape: RequestShape, order: Any) -> ShapeHandle:
        """Start counting requests of `shape`; `order` is its first request's."""
        handle = ShapeHandle()
        key = (shape.method, shape.route)
        endpoint = self.endpoints.get(key)
        if endpoint is None:
            endpoint = self.endpoints[key] = _Endpoint(key, self.pool)
        handle.endpoint = endpoint
        handle.first = order
        handle.count = len(shape.fingerprints)
        handle.duplicates = shape.duplicates
        handle.path = path_key(shape.fingerprints)
        per_request = Counter(shape.fingerprints)
        route = f"{shape.method} {shape.route}"
        for fingerprint in shape.fingerprints:
            statement = self.statements.get(fingerprint)
            if statement is None:
                statement = self.statements[fingerprint] = _Statement(fingerprint)
            handle.slots.append(statement)
        for fingerprint, n in per_request.items():
            statement = self.statements[fingerprint]
            handle.calls.append((statement, n))
            statement.per_request = max(statement.per_request, n)
            statement.routes.add(route)
            handle.sql.append((statement, shape.statements.get(fingerprint, "")))
        handle.findings = self._entries(shape.findings, order, 0)
        self.eager_read |= {(key, *read) for read in shape.eager_read}
        self.eager_read_anywhere |= {
            (site, path) for site, path in shape.eager_read if site is not None
        }
        self._offer_sql(handle, order)
        return handle

    def _entries(
        self, findings: Sequence[Finding], order: Any, first_index: int
    ) -> list[_FindingEntry]:
        """The running entries of one request's findings: those the ignore rules silence apart,
        each counted as an ignored finding of its rule."""
        kept: Sequence[Finding] = findings
        silenced: Sequence[IgnoredFinding] = ()
        if self.ignore is not None and findings:
            kept, silenced = self.ignore(list(findings))
        entries = []
        for index, finding in enumerate(_one_per_id(kept), start=first_index):
            plain = replace(finding, requests=1)
            entry = self.findings.get(plain)
            if entry is None:
                entry = self.findings[plain] = _FindingEntry(plain, (order, index))
            elif (order, index) < entry.first:
                entry.first = (order, index)
            entries.append(entry)
        for index, item in enumerate(silenced, start=first_index + len(kept)):
            plain = replace(item.finding, requests=1)
            entry = self.ignored.get((plain, item.rule))
            if entry is None:
                entry = self.ignored[(plain, item.rule)] = _FindingEntry(
                    plain, (order, index), item.rule
                )
            elif (order, index) < entry.first:
                entry.first = (order, index)
            entries.append(entry)
        return entries

    def _offer_sql(self, handle: ShapeHandle, order: Any) -> None:
        key = handle.endpoint.key
        for statement, sql in handle.sql:
            current = statement.sql.get(key)
            if current is None or order < current[0]:
                statement.sql[key] = [order, sql]

    def _earlier(self, handle: ShapeHandle, order: Any) -> None:
        # A request of this shape earlier than any seen: it is now the one the shape's
        # order-dependent values come from.
        handle.first = order
        for index, entry in enumerate(handle.findings):
            if (order, index) < entry.first:
                entry.first = (order, index)
        self._offer_sql(handle, order)

    def add(
        self,
        handle: ShapeHandle,
        order: Any,
        *,
        status: int,
        view: str,
        started_at: float,
        duration_ms: float,
        cache_gets: int,
        cache_hits: int,
        ms: Sequence[float],
    ) -> None:
        """One request of the shape `handle` stands for; `ms`: each query's time, in order."""
        if order < handle.first:
            self._earlier(handle, order)
        endpoint = handle.endpoint
        endpoint.requests += 1
        if endpoint.first is None or order < endpoint.first:
            endpoint.first = order
        endpoint.statuses[status] += 1
        if view and (endpoint.view_order is None or order < endpoint.view_order):
            endpoint.view, endpoint.view_order = view, order
        endpoint.gets += cache_gets
        endpoint.hits += cache_hits
        endpoint.durations.append(duration_ms)
        endpoint.db_ms.append(sum(ms))
        endpoint.counts[handle.count] += 1
        endpoint.duplicates[handle.duplicates] += 1
        endpoint.histogram[bucket(duration_ms)] += 1
        path = endpoint.paths.get(handle.path)
        if path is None:
            endpoint.paths[handle.path] = [1, handle.count, handle.count]
        else:  # one shape, one count; two shapes of one path may differ (an N+1's length)
            path[0] += 1
            path[1] = min(path[1], handle.count)
            path[2] = max(path[2], handle.count)
        for entry in handle.findings:
            entry.requests += 1
        for statement, n in handle.calls:
            statement.calls += n
        for statement, value in zip(handle.slots, ms, strict=True):
            units = round(value * 1000.0)
            if units / 1000.0 == value:
                statement.units += units
            else:
                statement.add_odd(value)
            if value > statement.longest:
                statement.longest = value
        self.requests += 1
        end = started_at + duration_ms / 1000
        if self.started is None or started_at < self.started:
            self.started = started_at
        if self.finished is None or end > self.finished:
            self.finished = end

    def add_profile(
        self,
        profile: RequestProfile,
        order: Any,
        detectors: Sequence[Detector],
        options: DetectionOptions,
    ) -> None:
        """One request given whole (its own shape, analysed on its own)."""
        handle = self.register(shape_of(profile, detectors, options), order)
        self.add(
            handle,
            order,
            status=profile.status,
            view=profile.view,
            started_at=profile.started_at,
            duration_ms=profile.duration_ms,
            cache_gets=profile.cache.gets,
            cache_hits=profile.cache.hits,
            ms=[q.ms for q in profile.queries],
        )

    def add_findings(self, findings: Sequence[Finding], order: Any, first_index: int) -> None:
        """Findings of one request found outside its shape (a detector that may read what varies
        between requests, run on each); `first_index` places them after the shape's own."""
        for entry in self._entries(findings, order, first_index):
            entry.requests += 1

    def merged_findings(self) -> list[Finding]:
        entries = sorted(self.findings.values(), key=lambda e: e.first)
        return merge_findings(
            [
                replace(e.finding, requests=e.requests)
                for e in entries
                if e.requests and not self._read_elsewhere(e.finding)
            ]
        )

    def _read_elsewhere(self, finding: Finding) -> bool:
        """An unused eager load that another request of its endpoint read through whole: the
        rows of this one did not need it, theirs did (a nullable foreign key). Or a request of
        another endpoint, from the same line (a middleware's or a shared helper's queryset):
        removing it there would cost the endpoints that read it."""
        if finding.kind != "unused_eager_load":
            return False
        path = finding.path or ""
        if ((finding.method, finding.route), finding.callsite, path) in self.eager_read:
            return True
        return finding.callsite is not None and (finding.callsite, path) in self.eager_read_anywhere

    def merged_ignored(self) -> list[IgnoredFinding]:
        entries = sorted(self.ignored.values(), key=lambda e: e.first)
        return merge_ignored(
            [
                IgnoredFinding(replace(e.finding, requests=e.requests), e.rule or "")
                for e in entries
                if e.requests
            ]
        )

    def finish(
        self,
        *,
        label: str,
        started_at: float,
        finished_at: float,
        environment: dict[str, str],
        load: LoadStats | None = None,
        complete: bool = True,
        notes: Sequence[str] = (),
        record_dir: str | None = None,
        skipped_lines: int = 0,
        unmeasured_requests: int = 0,
    ) -> AuditRun:
        findings = self.merged_findings()
        endpoints = [
            self._endpoint_stats(e, findings, load) for e in self.endpoints.values() if e.requests
        ]
        if load is not None:
            for entry in load.entries:
                key = (entry.method, entry.route)
                if key not in self.endpoints or not self.endpoints[key].requests:
                    endpoints.append(load_only_endpoint(entry.method, entry.route, load))
        endpoints.sort(key=lambda e: (e.route, e.method))
        cache = sum((e.cache for e in endpoints), CacheStats())
        try:
            return AuditRun(
                label=label,
                started_at=iso_utc(started_at),
                finished_at=iso_utc(finished_at),
                complete=complete,
                environment=dict(environment),
                endpoints=tuple(endpoints),
                queries=tuple(self._query_stats()),
                findings=tuple(findings),
                load=load,
                cache=cache,
                notes=tuple(notes),
                record_dir=record_dir,
                skipped_lines=skipped_lines,
                unmeasured_requests=unmeasured_requests,
                ignored=tuple(self.merged_ignored()),
            )
        finally:
            self.pool.close()

    def _endpoint_stats(
        self, e: _Endpoint, findings: list[Finding], load: LoadStats | None
    ) -> EndpointStats:
        method, route = e.key
        entry = load.entry(method, route) if load else None
        if entry is not None:
            latency: tuple[float | None, ...] = (entry.p50, entry.p95, entry.p99)
            source = "locust"
        else:
            latency = tuple(round(e.durations.percentile(q), 3) for q in (50, 95, 99))
            source = "middleware"
        return EndpointStats(
            method=method,
            route=route,
            view=e.view,
            requests=e.requests,
            status_codes=dict(sorted((str(k), v) for k, v in e.statuses.items())),
            queries_min=min(e.counts),
            queries_median=counted_median(e.counts),
            queries_max=max(e.counts),
            duplicates_median=counted_median(e.duplicates),
            duplicates_max=max(e.duplicates),
            db_ms_median=e.db_ms.median(),
            db_ms_p95=e.db_ms.percentile(95),
            latency_p50=latency[0],
            latency_p95=latency[1],
            latency_p99=latency[2],
            latency_source=source,
            cache=CacheStats(e.gets, e.hits),
            finding_ids=tuple(f.id for f in findings if (f.method, f.route) == e.key),
            failures=entry.failures if entry else 0,
            durations=Histogram(tuple(sorted(e.histogram.items()))),
            query_paths=tuple(
                QueryPath(key, n, low, high) for key, (n, low, high) in sorted(e.paths.items())
            ),
        )

    def _query_stats(self) -> list[QueryStats]:
        stats = []
        for statement in self.statements.values():
            if not statement.calls:
                continue
            # The text of the first request showing it, on the first endpoint (by its first
            # request) that shows it: what analysing the requests endpoint by endpoint kept.
            shown = [k for k in statement.sql if self.endpoints[k].first is not None]
            text = statement.sql[min(shown, key=lambda k: self.endpoints[k].first)][1]
            stats.append(
                QueryStats(
                    fingerprint=statement.fingerprint,
                    sql=text,
                    tables=tables(text),
                    kind=statement_kind(text),
                    routes=tuple(sorted(statement.routes)),
                    calls=statement.calls,
                    total_ms=statement.total(),
                    max_ms=statement.longest,
                    per_request_max=statement.per_request,
                )
            )
        return sorted(stats, key=lambda s: (-s.total_ms, s.fingerprint))

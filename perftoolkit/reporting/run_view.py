"""An AuditRun as the strings and rows the HTML report shows (no markup here, no numbers in
templates). `run_context()` is what `templates/perftoolkit/run.html` renders."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from perftoolkit.core.diagnosis.ignore import describe_ignored
from perftoolkit.core.findings import Finding, IndexAdvice
from perftoolkit.core.runs.priorities import run_fix_first
from perftoolkit.core.runs.run import AuditRun, EndpointStats, QueryStats, sampled_at
from perftoolkit.core.runs.targets import Scorecard, TargetResult, Targets, meets, score
from perftoolkit.reporting import charts
from perftoolkit.reporting.fix_view import by_rank, fix_views
from perftoolkit.reporting.formatting import (
    DASH,
    count,
    duration,
    elapsed,
    ms,
    percent,
    seconds,
    sort_key,
    timestamp,
)

KIND_TITLES = {
    "n_plus_one": "N+1 queries",
    "duplicate_query": "Duplicate query",
    "write_on_read": "Write during a read",
    "unused_eager_load": "Unused eager load",
    "lazy_relation": "Lazy relation reads",
    "missing_index": "Missing index",
    "budget_exceeded": "Budget exceeded",
}
INDEX_TONES = {
    "verified": "good",
    "proposed": "info",
    "rejected": "muted",
    "exists": "muted",
    "redundant": "warn",
    "duplicate": "warn",
    "unused": "warn",
}
TOP_QUERIES = 10


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    sort: str
    tone: str = ""  # over | good | bad | "" — a CSS class
    title: str = ""
    note: str = ""  # a second, smaller line


@dataclass(frozen=True, slots=True)
class Card:
    title: str
    value: str
    status: str  # met | missed | unknown
    status_text: str
    target: str
    detail: str


@dataclass(frozen=True, slots=True)
class EndpointRow:
    method: str
    route: str
    view: str
    cells: tuple[Cell, ...]
    budget: Cell
    findings: Cell
    finding_anchor: str


@dataclass(frozen=True, slots=True)
class FindingView:
    anchor: str
    kind: str
    title: str
    severity: str
    endpoint: str
    message: str
    scale: str
    callsite: str
    callsite_function: str
    origin: str
    origin_function: str
    subject: str
    subject_label: str
    fix_action: str
    fix_code: str
    fix_note: str
    sql: str


@dataclass(frozen=True, slots=True)
class IndexView:
    anchor: str
    title: str
    table: str
    columns: str
    status: str
    tone: str
    model: str
    name: str
    reason: str
    cost: str
    plan_before: str
    plan_after: str
    migration: str
    helps: str


@dataclass(frozen=True, slots=True)
class QueryRow:
    sql: str
    kind: str
    tables: str
    calls: Cell
    total_ms: Cell
    max_ms: Cell
    per_request: Cell
    routes: str


ENDPOINT_COLUMNS = (
    ("Requests", "descending"),
    ("Queries, median", "descending"),
    ("Queries, max", "descending"),
    ("Duplicates", "descending"),
    ("p50 ms", "descending"),
    ("p95 ms", "descending"),
    ("p99 ms", "descending"),
)


def target_text(result: TargetResult) -> str:
    sign = ">" if result.higher_is_better else "<"
    return f"{sign} {figure(result.name, result.target)}"


def figure(name: str, value: float | None) -> str:
    if name == "cache_hit_ratio":
        return percent(value)
    if name == "queries":
        return count(value)
    return duration(value)


def scorecard_cards(card: Scorecard) -> list[Card]:
    cards = []
    for r in card.results:
        judged = (
            f"{r.endpoints_met} of {r.endpoints_judged} endpoints meet it"
            if r.endpoints_judged
            else "no endpoint measured"
        )
        worst = f" · worst: {r.worst}" if r.worst else ""
        basis = f"{r.basis} · " if r.value is not None else ""
        cards.append(
            Card(
                title=r.title,
                value=figure(r.name, r.value) if r.value is not None else "n/a",
                status=r.status,
                status_text={"met": "✓ met", "missed": "✗ missed"}.get(r.status, "? not measured"),
                target=f"target {target_text(r)}",
                detail=f"{basis}{judged}{worst}",
            )
        )
    return cards


def targets_line(targets: Targets) -> str:
    return (
        f"P50 < {duration(targets.p50_ms)} · P95 < {duration(targets.p95_ms)} · "
        f"P99 < {duration(targets.p99_ms)} · < {count(targets.queries)} queries per request · "
        f"cache hits > {percent(targets.cache_hit_ratio)}"
    )


def endpoint_row(e: EndpointStats, targets: Targets) -> EndpointRow:
    def latency(value: float | None, target: float, name: str) -> Cell:
        over = value is not None and not meets(value, target)
        title = f"at or over the {name} target of {duration(target)}" if over else ""
        return Cell(ms(value), sort_key(value), "over" if over else "", title)

    q_over = e.queries_median is not None and not meets(e.queries_median, targets.queries)
    cells = (
        Cell(count(e.requests), sort_key(e.requests)),
        Cell(
            count(e.queries_median),
            sort_key(e.queries_median),
            "over" if q_over else "",
            f"at or over the target of < {count(targets.queries)} per request" if q_over else "",
        ),
        Cell(count(e.queries_max), sort_key(e.queries_max)),
        Cell(count(e.duplicates_median), sort_key(e.duplicates_median)),
        latency(e.latency_p50, targets.p50_ms, "P50"),
        latency(e.latency_p95, targets.p95_ms, "P95"),
        latency(e.latency_p99, targets.p99_ms, "P99"),
    )
    return EndpointRow(
        method=e.method,
        route=e.route,
        view=e.view,
        cells=cells,
        budget=budget_cell(e),
        findings=Cell(
            count(len(e.finding_ids)) if e.finding_ids else "", sort_key(len(e.finding_ids))
        ),
        finding_anchor=f"finding-{e.finding_ids[0]}" if e.finding_ids else "",
    )


def budget_cell(e: EndpointStats) -> Cell:
    limits = ", ".join(f"{k} ≤ {count(v)}" for k, v in sorted(e.budget.limits.items()))
    if e.budget.status == "exceeded":
        broken = ", ".join(e.budget.exceeded) or "a limit"
        return Cell("✗ over", "2", "bad", f"over budget on {broken}", limits)
    if e.budget.status == "ok":
        return Cell("✓ ok", "1", "good", "within budget", limits)
    return Cell(DASH, "0", "", "no budget for this endpoint")


def finding_view(f: Finding) -> FindingView:
    subject = ""
    if f.model:
        subject = f.model + (f" → {f.path or f.field}" if f.path or f.field else "")
    per_request = "query" if f.repeats == 1 else "queries"
    seen = "request" if f.requests == 1 else "requests"
    return FindingView(
        anchor=f"finding-{f.id}",
        kind=f.kind,
        title=KIND_TITLES.get(f.kind, f.kind.replace("_", " ")),
        severity=f.severity,
        endpoint=f"{f.method} {f.route}",
        message=f.message,
        scale=f"{count(f.repeats)} {per_request} of this shape per request · seen in {count(f.requests)} {seen}",
        callsite=str(f.callsite) if f.callsite else "",
        callsite_function=f.callsite.function if f.callsite else "",
        origin=str(f.origin) if f.origin else "",
        origin_function=f.origin.function if f.origin else "",
        subject=subject,
        subject_label="Relation" if f.path or f.field else "Model",
        fix_action=f.fix.action.replace("_", " ") if f.fix else "",
        fix_code=f.fix.code if f.fix else "",
        fix_note=f.fix.note if f.fix else "",
        sql=f.sql_example or "",
    )


def index_view(n: int, advice: IndexAdvice) -> IndexView:
    cost = ""
    before, after = advice.est_cost_before, advice.est_cost_after
    if before is not None and after is not None:
        drop = f" ({percent((after - before) / before, 0)})" if before else ""
        cost = f"{count(before)} → {count(after)}{drop}"
    return IndexView(
        anchor=f"index-{n}",
        title=f"{advice.table} ({', '.join(advice.columns)})",
        table=advice.table,
        columns=", ".join(advice.columns),
        status=advice.status,
        tone=INDEX_TONES.get(advice.status, "muted"),
        model=advice.model or "",
        name=advice.name,
        reason=advice.reason,
        cost=cost,
        plan_before=advice.plan_before,
        plan_after=advice.plan_after,
        migration=advice.migration,
        helps=f"helps {count(len(advice.queries))} statement shape{'s' if len(advice.queries) != 1 else ''}"
        if advice.queries
        else "",
    )


def verdict(run: AuditRun, card: Scorecard) -> str:
    parts = []
    judged = card.met + card.missed
    if judged:
        parts.append(
            f"{card.missed} of {judged} targets missed."
            if card.missed
            else f"All {judged} measured targets met."
        )
    if run.findings:
        kinds = Counter(f.kind for f in run.findings)
        n1 = f" ({kinds['n_plus_one']} N+1)" if kinds.get("n_plus_one") else ""
        where = len({(f.method, f.route) for f in run.findings})
        parts.append(
            f"{len(run.findings)} finding{'s' if len(run.findings) != 1 else ''}{n1} "
            f"on {where} of {len(run.endpoints)} endpoints."
        )
    else:
        parts.append("No findings.")
    if run.ignored:
        parts.append(describe_ignored(run.ignored) + ".")
    over = sum(1 for e in run.endpoints if e.budget.status == "exceeded")
    if over:
        parts.append(f"{over} endpoint{'s' if over != 1 else ''} over budget.")
    return " ".join(parts)


def run_context(run: AuditRun, targets: Targets) -> dict[str, Any]:
    card = score(run, targets)
    sampled = sampled_at(run.environment)
    plan = run_fix_first(run)
    budget = [finding_view(f) for f in run.findings if f.kind == "budget_exceeded"]
    recorded = [e for e in run.endpoints if e.queries_median is not None]
    statements = sum(q.calls for q in run.queries)
    recorded_requests = sum(e.requests for e in recorded)
    failures = run.load.total.failures if run.load else sum(e.failures for e in run.endpoints)
    return {
        "title": f"{run.label} · perftoolkit report",
        "label": run.label,
        "started": timestamp(run.started_at),
        "finished": timestamp(run.finished_at),
        "elapsed": elapsed(run.started_at, run.finished_at) or "",
        "complete": run.complete,
        "incomplete_reason": run.incomplete_reason or "",
        "exceptions": [
            (count(e.count), e.message, e.traceback)
            for e in (run.load.exceptions if run.load else ())
        ],
        "exceptions_count": count(sum(e.count for e in run.load.exceptions) if run.load else 0),
        "environment": sorted(run.environment.items()),
        "load": _load_facts(run),
        "latency_source": _latency_source(run),
        "notes": list(run.notes),
        "verdict": verdict(run, card),
        "tiles": [
            ("Endpoints", count(len(run.endpoints))),
            (
                f"Requests recorded, {sampled}" if sampled else "Requests",
                count(sum(e.requests for e in run.endpoints)),
            ),
            (
                "Queries per request, mean",
                count(round(statements / recorded_requests, 1)) if recorded_requests else DASH,
            ),
            ("Findings", count(len(run.findings))),
            ("Failures", count(failures)),
        ],
        "cards": scorecard_cards(card),
        "targets": targets_line(targets),
        "latency_chart": safe_svg(
            charts.latency_chart(
                [
                    charts.LatencyRow(e.key, e.latency_p50, e.latency_p95, e.latency_p99)
                    for e in run.endpoints
                    if e.latency_p50 is not None
                    and e.latency_p95 is not None
                    and e.latency_p99 is not None
                ],
                target_p95=targets.p95_ms,
                ident="latency-chart",
            )
        ),
        "queries_chart": safe_svg(
            charts.queries_chart(
                [
                    charts.QueriesRow(e.key, e.queries_median, e.queries_max)
                    for e in recorded
                    if e.queries_median is not None and e.queries_max is not None
                ],
                target=targets.queries,
                ident="queries-chart",
            )
        ),
        "columns": ENDPOINT_COLUMNS,
        "endpoints": [endpoint_row(e, targets) for e in run.endpoints],
        "fixes": fix_views(plan),
        "fixes_count": count(len(plan.items)),
        "findings": [
            finding_view(f) for f in by_rank(run.findings, plan) if f.kind != "budget_exceeded"
        ],
        "budget_findings": budget,
        "budget_count": count(len(budget)),
        "indexes": [index_view(n, a) for n, a in enumerate(run.indexes, start=1)],
        "queries": [_query_row(q) for q in run.queries[:TOP_QUERIES]],
        "queries_total": count(len(run.queries)),
        "queries_shown": count(min(len(run.queries), TOP_QUERIES)),
        "findings_count": count(len(run.findings)),
        "indexes_count": count(len(run.indexes)),
    }


def safe_svg(svg: str) -> SafeString:
    """The charts escape their own text (see charts.py); mark their markup safe for the template."""
    return mark_safe(svg)


def _latency_source(run: AuditRun) -> str:
    sources = Counter(e.latency_source for e in run.endpoints)
    if sources.get("locust"):
        return "Latency percentiles come from the load test (Locust), as clients saw them."
    if sources.get("middleware"):
        return "No load test: latency percentiles are the middleware's in-process timings."
    return ""


def _load_facts(run: AuditRun) -> list[tuple[str, str]]:
    load = run.load
    if load is None:
        return []
    facts = [
        ("users", count(load.users)),
        ("spawn rate", f"{count(load.spawn_rate)}/s"),
        ("run time", seconds(load.run_time_s)),
        ("workers", count(load.workers) if load.workers else "1 process"),
    ]
    if load.profiles:
        facts.append(("profiles", ", ".join(load.profiles)))
    facts += [
        ("requests", count(load.total.requests)),
        ("failures", count(load.total.failures)),
    ]
    if load.total.rps:
        rps = load.total.rps
        facts.append(("throughput", f"{count(round(rps, 1 if rps >= 1 else 2))} req/s"))
    return facts


def _query_row(q: QueryStats) -> QueryRow:
    return QueryRow(
        sql=q.sql,
        kind=q.kind,
        tables=", ".join(q.tables),
        calls=Cell(count(q.calls), sort_key(q.calls)),
        total_ms=Cell(ms(q.total_ms), sort_key(q.total_ms)),
        max_ms=Cell(ms(q.max_ms), sort_key(q.max_ms)),
        per_request=Cell(count(q.per_request_max), sort_key(q.per_request_max)),
        routes=", ".join(q.routes),
    )

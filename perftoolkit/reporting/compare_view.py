"""A Comparison as the strings and rows the before/after HTML report shows.
`compare_context()` is what `templates/perftoolkit/compare.html` renders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perftoolkit.core.runs.compare import Comparison, EndpointDelta, FindingChange, latency_sentence
from perftoolkit.core.runs.run import AuditRun
from perftoolkit.core.runs.targets import Targets, score
from perftoolkit.reporting import charts
from perftoolkit.reporting.formatting import (
    VERDICT_TONES,
    Change,
    change,
    count,
    latency_change,
    percent,
    query_change,
    timestamp,
    verdict_text,
)
from perftoolkit.reporting.run_view import KIND_TITLES, figure, safe_svg, target_text

BUDGET_MARKS = {"ok": "✓ ok", "exceeded": "✗ exceeded", "none": "–"}
_BUDGET_RANK = {"none": 0, "ok": 1, "exceeded": 2}


@dataclass(frozen=True, slots=True)
class Tile:
    name: str
    change: Change


@dataclass(frozen=True, slots=True)
class TargetRow:
    title: str
    target: str
    before: str
    before_status: str
    after: str
    after_status: str


@dataclass(frozen=True, slots=True)
class BudgetChange:
    text: str
    tone: str
    sort: str


@dataclass(frozen=True, slots=True)
class CompareRow:
    method: str
    route: str
    regressed: bool
    reasons: tuple[str, ...]
    cells: tuple[Change, ...]
    budget: BudgetChange
    latency: str  # the verdict in a few words
    latency_tone: str  # bad | good | same | unjudged
    latency_title: str  # the whole sentence: medians, p-value, requests
    rules: tuple[str, ...] = ()  # per cell: the rule that set its colour

    @property
    def pairs(self) -> list[tuple[Change, str]]:
        return list(zip(self.cells, self.rules or ("",) * len(self.cells), strict=True))


@dataclass(frozen=True, slots=True)
class FindingItem:
    title: str
    kind: str
    endpoint: str
    callsite: str
    message: str
    repeats: str


COLUMNS = ("Queries median", "Queries max", "Duplicates", "p50 ms", "p95 ms", "p99 ms", "Findings")


def totals_tiles(comparison: Comparison) -> list[Tile]:
    t = comparison.totals
    # A whole run's latency moves with the machine as much as with the code, so its tiles show
    # the move unjudged; endpoints are judged one by one, against the run's drift.
    tiles = [
        Tile("Queries per request", change(t.queries_per_request)),
        Tile("Findings", change(t.findings)),
        Tile("P95 latency, ms", change(t.latency_p95, unit="ms", neutral=True)),
        Tile("P99 latency, ms", change(t.latency_p99, unit="ms", neutral=True)),
        Tile("Cache hit rate", change(t.cache_hit_ratio, unit="ratio", higher_is_better=True)),
        Tile("Requests", change(t.requests, neutral=True)),
        Tile("Failures", change(t.failures)),
    ]
    # A figure neither run measured says nothing; no failures on either side neither.
    return [
        tile
        for tile in tiles
        if (tile.change.tone != "none" or tile.name == "Findings")
        and not (tile.name == "Failures" and tile.change.before == tile.change.after == "0")
    ]


def compare_row(e: EndpointDelta, comparison: Comparison) -> CompareRow:
    verdict = e.latency
    queries = (
        "query counts: red or green when the endpoint runs more or fewer queries on the same "
        "statements; grey when a request met a path the other run never took"
    )
    counted = "counts: any rise is worse (red), any fall better (green)"
    latency = (
        "latency: the endpoint's verdict (the Latency column): a rank test of every request at "
        f"{percent(comparison.confidence, 1)} confidence, a change counting from "
        f"{percent(comparison.tolerance, 1)}"
    )
    return CompareRow(
        method=e.method,
        route=e.route,
        regressed=bool(e.regressions),
        reasons=e.regressions,
        cells=(
            query_change(e.queries_median, e.queries),
            query_change(e.queries_max, e.queries),
            change(e.duplicates),
            latency_change(e.latency_p50, verdict),
            latency_change(e.latency_p95, verdict),
            latency_change(e.latency_p99, verdict),
            change(e.findings),
        ),
        budget=budget_change(e.budget_before, e.budget_after),
        latency=verdict_text(verdict),
        latency_tone=VERDICT_TONES[verdict.status],
        latency_title=latency_sentence(
            verdict, comparison.tolerance, comparison.confidence, comparison.drift
        ),
        rules=(queries, queries, counted, latency, latency, latency, counted),
    )


def budget_change(before: str, after: str) -> BudgetChange:
    old, new = _BUDGET_RANK.get(before, 0), _BUDGET_RANK.get(after, 0)
    if before == after:
        text, tone = BUDGET_MARKS.get(after, after), ("bad" if after == "exceeded" else "")
    else:
        text = f"{BUDGET_MARKS.get(before, before)} → {BUDGET_MARKS.get(after, after)}"
        tone = "bad" if after == "exceeded" else ("good" if new < old or after == "ok" else "")
    return BudgetChange(text, tone, str(new))


def colour_rules(comparison: Comparison) -> list[tuple[str, str, str]]:
    """Each colour of the page, and the rule that sets it: (CSS class, colour, rule)."""
    tol = percent(comparison.tolerance, 1)
    conf = percent(comparison.confidence, 1)
    return [
        (
            "chg-good",
            "green ▼/▲",
            "better: fewer queries on the same statements, fewer duplicates or findings; a rank "
            f"test at {conf} confidence finds the requests faster by more than {tol}; the cache "
            "hit rate rose; a budget met again",
        ),
        (
            "chg-bad",
            "red ▲/▼",
            "worse: more queries on the same statements, more duplicates or findings; a rank "
            f"test at {conf} confidence finds the requests slower by more than {tol}; the cache "
            "hit rate fell; a budget exceeded after",
        ),
        (
            "chg-same",
            "grey",
            "no change shown: equal counts, a query count that moved only because a request met "
            "a path the other run never took, a latency change the test does not show, or the "
            "requests sent",
        ),
        (
            "verdict-unjudged",
            "not judged (italic)",
            "latency where either run timed fewer than 10 requests of the endpoint",
        ),
        (
            "reg-flag",
            "red row",
            "a regression: more queries on the same statements, or slower beyond the tolerance "
            "at that confidence",
        ),
    ]


def finding_item(f: FindingChange) -> FindingItem:
    before, after = f.repeats.before, f.repeats.after
    if before is not None and after is not None:
        repeats = f"×{count(before)} → ×{count(after)} per request"
    else:
        repeats = f"×{count(before if after is None else after)} per request"
    return FindingItem(
        title=KIND_TITLES.get(f.kind, f.kind.replace("_", " ")),
        kind=f.kind,
        endpoint=f"{f.method} {f.route}",
        callsite=f.callsite or "",
        message=f.message,
        repeats=repeats,
    )


def verdict(comparison: Comparison) -> tuple[str, str]:
    """(headline, tone): regressions first, then the size of the change."""
    n = len(comparison.regressions)
    head = f"{n} regression{'s' if n != 1 else ''}" if n else "No regressions"
    per_request = change(comparison.totals.queries_per_request)
    parts = [head + "."]
    unjudged = len(comparison.not_judged)
    if unjudged:
        parts.append(
            f"Latency not judged on {unjudged} of {len(comparison.endpoints)} endpoints "
            "(too few requests)."
        )
    if per_request.tone != "none":
        parts.append(f"Queries per request {per_request.before} → {per_request.after}.")
    parts.append(
        f"Findings: {count(len(comparison.findings_fixed))} fixed, "
        f"{count(len(comparison.findings_new))} new, "
        f"{count(len(comparison.findings_remaining))} remaining."
    )
    return " ".join(parts), ("bad" if n else "ok")


def target_rows(before: AuditRun, after: AuditRun, targets: Targets) -> list[TargetRow]:
    marks = {"met": "✓", "missed": "✗", "unknown": "?"}
    rows = []
    for old, new in zip(score(before, targets).results, score(after, targets).results, strict=True):
        rows.append(
            TargetRow(
                title=old.title,
                target=target_text(old),
                before=f"{marks[old.status]} {figure(old.name, old.value)}",
                before_status=old.status,
                after=f"{marks[new.status]} {figure(new.name, new.value)}",
                after_status=new.status,
            )
        )
    return rows


def compare_context(
    comparison: Comparison, before: AuditRun, after: AuditRun, targets: Targets
) -> dict[str, Any]:
    rows = [compare_row(e, comparison) for e in comparison.endpoints]
    rows.sort(key=lambda r: not r.regressed)  # stable: regressions first, then route order
    headline, tone = verdict(comparison)
    old = {e.key: e for e in before.endpoints}
    new = {e.key: e for e in after.endpoints}
    keys = sorted(old.keys() | new.keys(), key=lambda k: (k.split(" ", 1)[1], k))

    def pairs(attr: str) -> list[charts.PairRow]:
        return [
            charts.PairRow(
                k,
                getattr(old[k], attr) if k in old else None,
                getattr(new[k], attr) if k in new else None,
            )
            for k in keys
        ]

    before_label, after_label = comparison.before.label, comparison.after.label
    return {
        "title": f"{before_label} → {after_label} · perftoolkit comparison",
        "before": comparison.before,
        "after": comparison.after,
        "before_started": timestamp(comparison.before.started_at),
        "after_started": timestamp(comparison.after.started_at),
        "tolerance": percent(comparison.tolerance, 1),
        "confidence": percent(comparison.confidence, 1),
        "drift": drift_text(comparison),
        "verdict": headline,
        "verdict_tone": tone,
        "tiles": totals_tiles(comparison),
        "targets": target_rows(before, after, targets),
        "regressions": [(e.key, e.regressions) for e in comparison.regressions],
        "queries_chart": safe_svg(
            charts.pair_chart(
                pairs("queries_median"),
                title="Median queries per request, before and after",
                before_label=before_label,
                after_label=after_label,
                ident="queries-pairs",
            )
        ),
        "latency_chart": safe_svg(
            charts.pair_chart(
                pairs("latency_p95"),
                title="p95 latency (ms), before and after",
                before_label=before_label,
                after_label=after_label,
                ident="p95-pairs",
            )
        ),
        "columns": COLUMNS,
        "colours": colour_rules(comparison),
        "rows": rows,
        "fixed": [finding_item(f) for f in comparison.findings_fixed],
        "new": [finding_item(f) for f in comparison.findings_new],
        "remaining": [finding_item(f) for f in comparison.findings_remaining],
        "fixed_count": count(len(comparison.findings_fixed)),
        "new_count": count(len(comparison.findings_new)),
        "remaining_count": count(len(comparison.findings_remaining)),
        "only_before": [e.key for e in comparison.only_before],
        "only_after": [e.key for e in comparison.only_after],
        "regressions_count": count(len(comparison.regressions)),
    }


def drift_text(comparison: Comparison) -> str:
    """How much the whole run's latency moved, and that the verdicts allow for it."""
    drift = comparison.drift
    if drift is None:
        return ""
    return (
        f"The run as a whole moved ×{drift.factor:.2f} (the median change of the "
        f"{drift.endpoints} endpoints measured often enough in both runs): a busier machine moves "
        "every endpoint alike, so an endpoint is called slower only past that and the tolerance."
    )

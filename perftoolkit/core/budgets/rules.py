"""Per-endpoint query budgets: the value types, judging a run against them, and rewriting them.

Pure: the budget file (`perftoolkit.budgets`) reads TOML into these types; entry points render
what `evaluate()` returns. Every endpoint is judged on its worst request (`queries.max`), so a
budget is a promise about each request, not an average.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from perftoolkit.core.findings import Finding, merge_findings
from perftoolkit.core.runs.run import AuditRun, BudgetStatus, EndpointStats

# Every limit an endpoint can have, in the order files and tables show them.
LIMITS: tuple[str, ...] = ("queries", "duplicates", "db_ms_p95", "latency_ms_p95")
# Limits that count statements (whole numbers); the others are milliseconds.
COUNT_LIMITS: frozenset[str] = frozenset({"queries", "duplicates"})
UNLISTED_POLICIES: tuple[str, ...] = ("ignore", "fail")
# The route the middleware records for a request no URL pattern matched (a test's 404): judged
# only when the file lists it, never recorded on its own.
UNMATCHED_ROUTE = "<unmatched>"
# Which findings explain a broken budget best, most telling first.
_KIND_RANK = {
    "n_plus_one": 0,
    "duplicate_query": 1,
    "write_on_read": 2,
    "lazy_relation": 3,
    "missing_index": 4,
    "unused_eager_load": 5,
}
TOP_FINDINGS = 3


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits of one endpoint (or the defaults); None means "no limit"."""

    queries: int | None = None
    duplicates: int | None = None
    db_ms_p95: float | None = None
    latency_ms_p95: float | None = None

    def items(self) -> dict[str, float]:
        """The limits that are set, in `LIMITS` order."""
        return {name: value for name in LIMITS if (value := getattr(self, name)) is not None}

    def over(self, defaults: Limits) -> Limits:
        """These limits, with `defaults` filling the ones not set."""
        return Limits(**{name: getattr(self, name) for name in LIMITS} | _unset(self, defaults))

    def with_value(self, name: str, value: float | None) -> Limits:
        if name not in LIMITS:
            raise ValueError(f"unknown limit {name!r}")
        values: dict[str, Any] = {n: getattr(self, n) for n in LIMITS}
        values[name] = int(value) if value is not None and name in COUNT_LIMITS else value
        return Limits(**values)

    def to_dict(self) -> dict[str, float]:
        return self.items()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Limits:
        data = data or {}
        return cls(**{f.name: data[f.name] for f in fields(cls) if data.get(f.name) is not None})


def _unset(limits: Limits, defaults: Limits) -> dict[str, Any]:
    return {name: getattr(defaults, name) for name in LIMITS if getattr(limits, name) is None}


@dataclass(frozen=True, slots=True)
class EndpointBudget:
    """The limits of one endpoint, keyed like report endpoints: method + normalised route."""

    method: str
    route: str
    limits: Limits = field(default_factory=Limits)
    # Where the endpoint's table starts in its file, for messages and annotations.
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return endpoint_key(self.method, self.route)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "route": self.route, "limits": self.limits.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EndpointBudget:
        return cls(
            method=str(data["method"]),
            route=str(data["route"]),
            limits=Limits.from_dict(data.get("limits")),
        )


@dataclass(frozen=True, slots=True)
class Budgets:
    """A whole budget file: `[defaults]` and one table per endpoint, in file order."""

    defaults: Limits = field(default_factory=Limits)
    unlisted: str = "ignore"  # ignore | fail: what an endpoint without a table gets
    endpoints: tuple[EndpointBudget, ...] = ()
    source: str = ""  # the file, as messages name it

    def get(self, method: str, route: str) -> EndpointBudget | None:
        for budget in self.endpoints:
            if budget.method == method and budget.route == route:
                return budget
        return None

    def with_endpoint(self, budget: EndpointBudget) -> Budgets:
        """These budgets with `budget` replacing the endpoint's table (or appended)."""
        if self.get(budget.method, budget.route) is None:
            return replace(self, endpoints=(*self.endpoints, budget))
        return replace(
            self,
            endpoints=tuple(
                replace(budget, line=old.line) if old.key == budget.key else old
                for old in self.endpoints
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "defaults": self.defaults.to_dict(),
            "unlisted": self.unlisted,
            "endpoints": [e.to_dict() for e in self.endpoints],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Budgets:
        return cls(
            defaults=Limits.from_dict(data.get("defaults")),
            unlisted=str(data.get("unlisted", "ignore")),
            endpoints=tuple(EndpointBudget.from_dict(e) for e in data.get("endpoints", [])),
        )


def endpoint_key(method: str, route: str) -> str:
    """`GET api/courses/`: how budget files, reports and messages name an endpoint."""
    return f"{method} {route}"


# -- judging a run --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """One limit of one endpoint against what the run measured."""

    name: str
    budget: float
    measured: float | None  # None: the run has no such figure (e.g. a Locust-only endpoint)

    @property
    def exceeded(self) -> bool:
        return self.measured is not None and self.measured > self.budget

    @property
    def delta(self) -> float | None:
        return None if self.measured is None else self.measured - self.budget

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "budget": self.budget,
            "measured": self.measured,
            "delta": self.delta,
            "exceeded": self.exceeded,
        }


@dataclass(frozen=True, slots=True)
class BudgetRow:
    """One endpoint of the run, judged: its limits, what was measured, and what explains it."""

    method: str
    route: str
    requests: int
    checks: tuple[LimitCheck, ...] = ()
    listed: bool = True  # the file has a table for this endpoint
    unlisted_fails: bool = False  # not listed, and the file says `unlisted = "fail"`
    findings: tuple[Finding, ...] = ()  # the endpoint's top findings, most telling first
    line: int | None = None  # the endpoint's table in the budget file

    @property
    def key(self) -> str:
        return endpoint_key(self.method, self.route)

    @property
    def exceeded(self) -> tuple[str, ...]:
        """The names of the limits broken (`unlisted` when the file demands a table)."""
        names = tuple(c.name for c in self.checks if c.exceeded)
        return (*names, "unlisted") if self.unlisted_fails else names

    @property
    def status(self) -> str:
        """`exceeded`, `ok`, or `none` when no limit applies to this endpoint."""
        if self.exceeded:
            return "exceeded"
        return "ok" if self.checks else "none"

    @property
    def limits(self) -> dict[str, float]:
        return {c.name: c.budget for c in self.checks}

    def check(self, name: str) -> LimitCheck | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "route": self.route,
            "status": self.status,
            "exceeded": list(self.exceeded),
            "checks": [c.to_dict() for c in self.checks],
            "listed": self.listed,
            "findings": [f.id for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class BudgetResult:
    """A run judged against a budget file."""

    rows: tuple[BudgetRow, ...]  # one per endpoint of the run, in the run's order
    not_exercised: tuple[EndpointBudget, ...] = ()  # budgets the run made no request to
    source: str = ""

    @property
    def failed(self) -> tuple[BudgetRow, ...]:
        return tuple(r for r in self.rows if r.status == "exceeded")

    @property
    def judged(self) -> tuple[BudgetRow, ...]:
        """The rows a limit applied to (ok or exceeded)."""
        return tuple(r for r in self.rows if r.status != "none")

    @property
    def passed(self) -> bool:
        return not self.failed

    def row(self, method: str, route: str) -> BudgetRow | None:
        return next((r for r in self.rows if r.method == method and r.route == route), None)


def measured(endpoint: EndpointStats) -> dict[str, float | None]:
    """What a budget is compared with, per limit: the worst request's counts, the p95 times."""
    duplicates: float | None = endpoint.duplicates_max
    if duplicates is None:  # a report from before worst-request duplicates were recorded
        duplicates = endpoint.duplicates_median if endpoint.queries_max is not None else None
    return {
        "queries": endpoint.queries_max,
        "duplicates": duplicates,
        "db_ms_p95": endpoint.db_ms_p95 if endpoint.queries_max is not None else None,
        "latency_ms_p95": endpoint.latency_p95,
    }


def evaluate(run: AuditRun, budgets: Budgets) -> BudgetResult:
    """Judge every endpoint of `run` on its worst request against `budgets`."""
    rows = []
    for endpoint in run.endpoints:
        budget = budgets.get(endpoint.method, endpoint.route)
        unmatched = endpoint.route == UNMATCHED_ROUTE and budget is None
        limits = (budget.limits if budget else Limits()).over(
            Limits() if unmatched else budgets.defaults
        )
        values = measured(endpoint)
        rows.append(
            BudgetRow(
                method=endpoint.method,
                route=endpoint.route,
                requests=endpoint.requests,
                checks=tuple(
                    LimitCheck(name, limit, values[name]) for name, limit in limits.items().items()
                ),
                listed=budget is not None,
                unlisted_fails=budget is None and budgets.unlisted == "fail" and not unmatched,
                findings=top_findings(run, endpoint.method, endpoint.route),
                line=budget.line if budget else None,
            )
        )
    seen = {(e.method, e.route) for e in run.endpoints}
    return BudgetResult(
        rows=tuple(rows),
        not_exercised=tuple(b for b in budgets.endpoints if (b.method, b.route) not in seen),
        source=budgets.source,
    )


def top_findings(
    run: AuditRun, method: str, route: str, limit: int = TOP_FINDINGS
) -> tuple[Finding, ...]:
    """The findings that best explain an endpoint's query count: fixable first, biggest first."""
    mine = [
        f
        for f in run.findings
        if f.method == method and f.route == route and f.kind != "budget_exceeded"
    ]
    mine.sort(key=lambda f: (f.fix is None, _KIND_RANK.get(f.kind, 9), -f.repeats, f.id))
    return tuple(mine[:limit])


def apply_budgets(run: AuditRun, result: BudgetResult) -> AuditRun:
    """The run with `endpoints[].budget` filled and one `budget_exceeded` finding per failure.

    Idempotent: budget findings of an earlier application are replaced.
    """
    kept = [f for f in run.findings if f.kind != "budget_exceeded"]
    added = {row.key: _exceeded_finding(row) for row in result.failed}
    findings = merge_findings([*kept, *added.values()])
    endpoints = []
    for endpoint in run.endpoints:
        row = result.row(endpoint.method, endpoint.route)
        status = (
            BudgetStatus(limits=row.limits, status=row.status, exceeded=row.exceeded)
            if row is not None
            else BudgetStatus()
        )
        ids = [i for i in endpoint.finding_ids if i in {f.id for f in kept}]
        if endpoint.key in added:
            ids.insert(0, added[endpoint.key].id)
        endpoints.append(replace(endpoint, budget=status, finding_ids=tuple(ids)))
    return run.with_changes(endpoints=tuple(endpoints), findings=tuple(findings))


def _exceeded_finding(row: BudgetRow) -> Finding:
    top = row.findings[0] if row.findings else None
    return Finding(
        kind="budget_exceeded",
        method=row.method,
        route=row.route,
        message=describe_row(row),
        severity="error",
        callsite=top.callsite if top else None,
        fix=top.fix if top else None,
    )


def describe_row(row: BudgetRow) -> str:
    """One sentence: `GET api/x/ is over budget: queries 26 > 4 (+22).`"""
    parts = [
        f"{c.name} {format_value(c.measured)} > {format_value(c.budget)} ({format_delta(c.delta)})"
        for c in row.checks
        if c.exceeded
    ]
    if row.unlisted_fails:
        parts.append("no budget for it in the budget file, which says unlisted = 'fail'")
    return f"{row.key} is over budget: {'; '.join(parts)}."


def format_value(value: float | None) -> str:
    if value is None:
        return "–"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def format_delta(value: float | None) -> str:
    if value is None:
        return "–"
    return ("+" if value > 0 else "") + format_value(value)

"""Writing budgets from a run: `record` (measured values plus headroom) and `update` (the ratchet).

Pure, like `core.budget`; `perftoolkit.budgets` writes the result back into the TOML file with its
comments and order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from perftoolkit.core.budgets.rules import (
    COUNT_LIMITS,
    LIMITS,
    UNMATCHED_ROUTE,
    Budgets,
    EndpointBudget,
    Limits,
    endpoint_key,
    measured,
)
from perftoolkit.core.runs.run import AuditRun


@dataclass(frozen=True, slots=True)
class Headroom:
    """What `record` adds to a measured value: `2` (absolute) or `20%` (of the value)."""

    amount: float = 0.0
    percent: bool = False

    @classmethod
    def parse(cls, text: str | None) -> Headroom:
        """`"2"`, `"1.5"` or `"20%"`; raises ValueError with the accepted forms.

        >>> [str(Headroom.parse(t)) for t in ("2", "20%", None)]
        ['2', '20%', '0']
        >>> Headroom.parse("20%").apply("queries", 11)
        14
        """
        if text is None or not str(text).strip():
            return cls()
        raw = str(text).strip()
        percent = raw.endswith("%")
        try:
            amount = float(raw.removesuffix("%").strip())
        except ValueError:
            amount = math.nan
        if not math.isfinite(amount) or amount < 0:
            raise ValueError(
                f"headroom {text!r} is not a number of queries (`2`) or a percentage (`20%`) of at least 0"
            )
        return cls(amount, percent)

    def apply(self, name: str, value: float) -> float:
        """`value` plus the headroom, rounded up: whole numbers for counts, 0.1 ms for times."""
        raised = value * (1 + self.amount / 100) if self.percent else value + self.amount
        if name in COUNT_LIMITS:
            return math.ceil(round(raised, 9))
        return math.ceil(round(raised * 10, 9)) / 10

    def __str__(self) -> str:
        return f"{self.amount:g}%" if self.percent else f"{self.amount:g}"


@dataclass(frozen=True, slots=True)
class BudgetChange:
    """One line of the diff `record` and `update` print."""

    method: str
    route: str
    limit: str
    old: float | None
    new: float | None
    measured: float | None
    # added | lowered | raised | kept (over budget, not raised without allow_increase) | same
    kind: str

    @property
    def key(self) -> str:
        return endpoint_key(self.method, self.route)


@dataclass(frozen=True, slots=True)
class BudgetUpdate:
    """New budgets and the diff from the old ones."""

    budgets: Budgets
    changes: tuple[BudgetChange, ...]

    @property
    def changed(self) -> tuple[BudgetChange, ...]:
        return tuple(c for c in self.changes if c.kind in ("added", "lowered", "raised"))

    @property
    def kept_over(self) -> tuple[BudgetChange, ...]:
        return tuple(c for c in self.changes if c.kind == "kept")


def record(
    run: AuditRun, budgets: Budgets | None = None, *, headroom: Headroom | None = None
) -> BudgetUpdate:
    """Budgets from what the run measured (plus headroom), up or down.

    Every endpoint of the run gets `queries`; limits its table already has are re-measured too.
    Tables of endpoints the run did not exercise, and `[defaults]`, are kept as they are.
    """
    return _rewrite(run, budgets or Budgets(), headroom or Headroom(), ratchet=False)


def update(
    run: AuditRun,
    budgets: Budgets,
    *,
    headroom: Headroom | None = None,
    allow_increase: bool = False,
) -> BudgetUpdate:
    """Ratchet: lower every limit the run now beats; never raise one unless `allow_increase`.

    Endpoints without a table get one (as `record` would write it): a new budget only tightens.
    """
    return _rewrite(
        run, budgets, headroom or Headroom(), ratchet=True, allow_increase=allow_increase
    )


def _rewrite(
    run: AuditRun,
    budgets: Budgets,
    headroom: Headroom,
    *,
    ratchet: bool,
    allow_increase: bool = False,
) -> BudgetUpdate:
    changes: list[BudgetChange] = []
    for endpoint in run.endpoints:
        values = measured(endpoint)
        if values["queries"] is None:
            continue  # nothing the middleware saw (a Locust-only endpoint): nothing to record
        budget = budgets.get(endpoint.method, endpoint.route)
        if budget is None and endpoint.route == UNMATCHED_ROUTE:
            continue  # requests no URL pattern matched are not an endpoint to budget
        own = budget.limits if budget is not None else Limits()
        effective = own.over(budgets.defaults)
        names = [n for n in LIMITS if n == "queries" or getattr(own, n) is not None]
        limits = own
        for name in names:
            value = values[name]
            if value is None:
                continue
            old = getattr(own, name)
            current = getattr(effective, name)
            kind, new = _decide(current, headroom.apply(name, value), ratchet, allow_increase)
            changes.append(
                BudgetChange(endpoint.method, endpoint.route, name, current, new, value, kind)
            )
            if ratchet and old is None and kind in ("same", "kept"):
                continue  # [defaults] still decides for this endpoint
            limits = limits.with_value(name, new)
        if limits != own or (budget is None and limits.items()):
            budgets = budgets.with_endpoint(EndpointBudget(endpoint.method, endpoint.route, limits))
    return BudgetUpdate(budgets=budgets, changes=tuple(changes))


def _decide(
    current: float | None, target: float, ratchet: bool, allow_increase: bool
) -> tuple[str, float]:
    if current is None:
        return ("added", target)
    if target == current:
        return ("same", current)
    if target < current:
        return ("lowered", target)
    if not ratchet or allow_increase:
        return ("raised", target)
    return ("kept", current)

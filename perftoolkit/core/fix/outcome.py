"""What `perf_fix` did with each finding, and the table it prints.

>>> row = FixOutcome("abc123", "GET", "api/courses/", "lms/views.py", 12, '.select_related("a")',
...                  "verified", queries_before=41, queries_after=22)
>>> print(render_table([row]))
finding  endpoint          file:line        queries  verified
abc123   GET api/courses/  lms/views.py:12  41 → 22  yes
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

# verified: kept (fewer queries, same responses); covered: an earlier kept edit already does it;
# rejected: written, replayed, and reverted; unverifiable: written but no replay could judge it;
# unplaceable: not written (the reason says why); not_fixable: no exact fix or no origin line.
Status = Literal["verified", "covered", "rejected", "unverifiable", "unplaceable", "not_fixable"]


@dataclass(frozen=True, slots=True)
class FixOutcome:
    finding: str
    method: str
    route: str
    file: str | None
    line: int | None
    code: str
    status: Status
    reason: str = ""
    queries_before: int | None = None
    queries_after: int | None = None
    edited: str | None = None  # the file the kept edit is in, when not the origin's

    @property
    def verified(self) -> bool:
        return self.status in ("verified", "covered")

    @property
    def fixable(self) -> bool:
        """Counted by the exit code: every finding with an exact fix and a Python origin."""
        return self.status != "not_fixable"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else "-"


def render_table(outcomes: Sequence[FixOutcome]) -> str:
    header = ("finding", "endpoint", "file:line", "queries", "verified")
    rows = [header]
    for outcome in outcomes:
        queries = (
            f"{outcome.queries_before} → {outcome.queries_after}"
            if outcome.queries_before is not None and outcome.queries_after is not None
            else "-"
        )
        verdict = "yes" if outcome.verified else "no"
        if outcome.reason:
            verdict += f": {outcome.reason}"
        if outcome.edited:
            verdict += f" (in {outcome.edited})"
        rows.append(
            (outcome.finding, f"{outcome.method} {outcome.route}", outcome.where, queries, verdict)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    )


def exit_code(outcomes: Sequence[FixOutcome]) -> int:
    """0 when every fixable finding was verified, 3 otherwise."""
    return 0 if all(o.verified for o in outcomes if o.fixable) else 3

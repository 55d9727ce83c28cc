"""Budget failures as plain text: pytest failure messages and JUnit XML failure bodies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from perftoolkit.core.budgets.rules import BudgetRow, describe_row, format_delta, format_value
from perftoolkit.core.events import CallSite, QueryEvent
from perftoolkit.core.findings import Finding

SQL_WIDTH = 120


def row_details(row: BudgetRow, source: str) -> str:
    """What went over, by how much, and what to change: the failure of one endpoint."""
    where = f"{source}:{row.line}" if row.line else source
    lines = [f"{describe_row(row)} (budget: {where})"]
    for check in row.checks:
        mark = "  <- over budget" if check.exceeded else ""
        lines.append(
            f"  {check.name}: measured {format_value(check.measured)}, budget "
            f"{format_value(check.budget)} ({format_delta(check.delta)}){mark}"
        )
    if row.unlisted_fails:
        lines.append(
            f'  {row.key} has no table in {source}, whose [defaults] say unlisted = "fail": '
            "add one (`perftoolkit budget update --report report.json` writes it)."
        )
    lines.extend(findings_lines(row.findings))
    return "\n".join(lines)


def findings_lines(findings: Sequence[Finding]) -> list[str]:
    if not findings:
        return []
    lines = ["Findings:"]
    for finding in findings:
        where = f" at {finding.callsite}" if finding.callsite else ""
        lines.append(f"  - {finding.kind}{where}: {finding.message}")
        if finding.fix is not None:
            lines.append(f"    fix: {finding.fix.code}")
    return lines


@dataclass(frozen=True, slots=True)
class QueryGroup:
    """The statements of one fingerprint in a block, with where they ran."""

    fingerprint: str
    sql: str
    count: int
    callsites: tuple[CallSite, ...]


def group_queries(queries: Sequence[QueryEvent]) -> list[QueryGroup]:
    """Queries grouped by fingerprint, most repeated first (then in order of first run)."""
    order: dict[str, int] = {}
    members: dict[str, list[QueryEvent]] = {}
    for index, query in enumerate(queries):
        order.setdefault(query.fingerprint, index)
        members.setdefault(query.fingerprint, []).append(query)
    groups = []
    for fp, items in members.items():
        sites = tuple(dict.fromkeys(q.callsite for q in items if q.callsite is not None))
        groups.append(QueryGroup(fp, items[0].sql, len(items), sites))
    groups.sort(key=lambda g: (-g.count, order[g.fingerprint]))
    return groups


def block_failure(
    *,
    what: str,
    limits: dict[str, int | None],
    measured: dict[str, int],
    queries: Sequence[QueryEvent],
    findings: Sequence[Finding],
    verbose: bool = False,
) -> str:
    """The message of a `query_budget` block or marker that went over."""
    over = [
        f"{name} {measured[name]} > {limit} ({format_delta(measured[name] - limit)})"
        for name, limit in limits.items()
        if limit is not None and measured[name] > limit
    ]
    lines = [f"{what} is over its query budget: {'; '.join(over)}."]
    groups = group_queries(queries)
    lines.append(f"{len(queries)} queries, {len(groups)} distinct (count × statement, where):")
    for group in groups:
        sql = " ".join(group.sql.split())
        if not verbose and len(sql) > SQL_WIDTH:
            sql = sql[: SQL_WIDTH - 1] + "…"
        lines.append(f"  {group.count:>3} × {sql}")
        if group.callsites:
            shown = ", ".join(str(c) for c in group.callsites[:3])
            more = f" (+{len(group.callsites) - 3} more)" if len(group.callsites) > 3 else ""
            lines.append(f"        at {shown}{more}")
    lines.extend(findings_lines(findings))
    if not verbose:
        lines.append("(add -v to see whole statements)")
    return "\n".join(lines)

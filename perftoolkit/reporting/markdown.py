"""A run as Markdown: the tables a pull-request comment or a job summary shows."""

from __future__ import annotations

from perftoolkit.core.budget import BudgetResult, format_delta, format_value
from perftoolkit.core.run import AuditRun, EndpointStats


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if digits else f"{value:g}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def endpoint_row(e: EndpointStats) -> str:
    status = {"ok": "✅ ok", "exceeded": "❌ " + ", ".join(e.budget.exceeded), "none": "–"}.get(
        e.budget.status, e.budget.status
    )
    return (
        f"| `{_cell(e.method)} {_cell(e.route)}` | {e.requests} | {_num(e.queries_median)} | {_num(e.queries_max)} "
        f"| {_num(e.duplicates_median)} | {_num(e.latency_p50, 1)} | {_num(e.latency_p95, 1)} "
        f"| {_num(e.latency_p99, 1)} | {len(e.finding_ids)} | {status} |"
    )


def run_to_markdown(run: AuditRun) -> str:
    lines = [
        f"## perftoolkit report: {run.label}",
        "",
        f"{len(run.endpoints)} endpoints, {sum(e.requests for e in run.endpoints)} requests, "
        f"{len(run.findings)} findings" + ("" if run.complete else " — **incomplete run**") + ".",
        "",
        "| endpoint | requests | queries (median) | queries (max) | duplicates | p50 ms | p95 ms | p99 ms | findings | budget |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines.extend(endpoint_row(e) for e in run.endpoints)
    if run.findings:
        lines += ["", "### Findings", "", "| endpoint | kind | where | fix |", "|---|---|---|---|"]
        for f in run.findings:
            where = f"`{f.callsite}`" if f.callsite else "–"
            fix = f"`{_cell(f.fix.code)}`" if f.fix else "–"
            lines.append(
                f"| `{f.method} {_cell(f.route)}` | {f.kind} ×{f.repeats} | {where} | {fix} |"
            )
    for note in run.notes:
        lines.append(f"\n> {note}")
    return "\n".join(lines) + "\n"


def budget_result_to_markdown(result: BudgetResult) -> str:
    """A pull-request comment: the endpoints over budget with their fix, the rest folded."""
    failed = result.failed
    judged = result.judged
    head = (
        f"❌ {len(failed)} of {len(judged)} endpoints over budget"
        if failed
        else f"✅ all {len(judged)} budgeted endpoints within budget"
    )
    lines = [f"## perftoolkit budgets: {head}", "", f"Budget file: `{_cell(result.source)}`", ""]
    if failed:
        lines += [
            "| endpoint | limit | budget | measured | delta | top finding | fix |",
            "|---|---|---:|---:|---:|---|---|",
        ]
        for row in failed:
            top = row.findings[0] if row.findings else None
            finding = (
                f"{top.kind} ×{top.repeats}" + (f" at `{top.callsite}`" if top.callsite else "")
                if top
                else "–"
            )
            fix = f"`{_cell(top.fix.code)}`" if top and top.fix else "–"
            over = [c for c in row.checks if c.exceeded]
            for index, check in enumerate(over):
                first = index == 0
                lines.append(
                    f"| {'`' + _cell(row.key) + '`' if first else ''} | {check.name} "
                    f"| {format_value(check.budget)} | {format_value(check.measured)} "
                    f"| **{format_delta(check.delta)}** | {finding if first else ''} "
                    f"| {fix if first else ''} |"
                )
            if row.unlisted_fails:
                lines.append(
                    f"| `{_cell(row.key)}` | unlisted | – | – | – | no table in the budget file | "
                    "`perftoolkit budget update` |"
                )
        lines.append("")
    passing = [r for r in judged if r.status == "ok"]
    if passing:
        lines += [
            f"<details><summary>{len(passing)} within budget</summary>",
            "",
            "| endpoint | queries (max) | budget |",
            "|---|---:|---:|",
        ]
        for row in passing:
            queries = row.check("queries")
            lines.append(
                f"| `{_cell(row.key)}` | {format_value(queries.measured if queries else None)} "
                f"| {format_value(queries.budget if queries else None)} |"
            )
        lines += ["", "</details>", ""]
    if result.not_exercised:
        keys = ", ".join(f"`{_cell(b.key)}`" for b in result.not_exercised)
        lines += [f"Not exercised (not judged): {keys}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"

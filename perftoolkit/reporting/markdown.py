"""A run as Markdown: the tables a pull-request comment or a job summary shows."""

from __future__ import annotations

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

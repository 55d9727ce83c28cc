"""Terminal views of a run (the only module that imports rich)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from perftoolkit.core.indexes import IndexAdvice
from perftoolkit.core.run import AuditRun


def make_console(
    file: IO[str] | None = None, *, stderr: bool = False, width: int | None = None
) -> Console:
    return Console(file=file, stderr=stderr, width=width, soft_wrap=False, highlight=False)


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if digits else f"{value:g}"


def render_run(run: AuditRun, console: Console) -> None:
    """Endpoints table, then one block per finding with its fix."""
    title = f"perftoolkit · {run.label}" + ("" if run.complete else " (incomplete)")
    table = Table(title=title, title_justify="left", show_lines=False)
    for name, justify in (
        ("endpoint", "left"),
        ("req", "right"),
        ("queries med/max", "right"),
        ("dup", "right"),
        ("p50", "right"),
        ("p95", "right"),
        ("p99", "right"),
        ("findings", "right"),
        ("budget", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for e in run.endpoints:
        budget = Text(
            e.budget.status,
            style={"ok": "green", "exceeded": "bold red"}.get(e.budget.status, "dim"),
        )
        if e.budget.exceeded:
            budget.append(" " + ", ".join(e.budget.exceeded))
        table.add_row(
            f"{e.method} {e.route}",
            str(e.requests),
            f"{_fmt(e.queries_median)}/{_fmt(e.queries_max)}",
            _fmt(e.duplicates_median),
            _fmt(e.latency_p50, 1),
            _fmt(e.latency_p95, 1),
            _fmt(e.latency_p99, 1),
            str(len(e.finding_ids)) if e.finding_ids else "",
            budget,
        )
    console.print(table)
    for finding in run.findings:
        style = {"error": "bold red", "warning": "yellow"}.get(finding.severity, "cyan")
        head = Text(f"{finding.kind} ", style=style)
        head.append(f"{finding.method} {finding.route}", style="bold")
        console.print(head)
        console.print(Text(f"  {finding.message}"))
        if finding.fix is not None:
            console.print(Text(f"  fix: {finding.fix.code}", style="green"))
    for note in run.notes:
        console.print(Text(f"note: {note}", style="dim"))


_ADVICE_STYLES = {
    "verified": "bold green",
    "rejected": "yellow",
    "proposed": "cyan",
    "exists": "dim",
    "redundant": "magenta",
    "duplicate": "magenta",
    "unused": "magenta",
}


def render_indexes(
    advice: Sequence[IndexAdvice], console: Console, *, notes: Sequence[str] = ()
) -> None:
    """One row per advice (status, table, columns, estimated cost), then why, and what to add."""
    table = Table(title="perftoolkit · index advice", title_justify="left")
    for name, justify in (
        ("status", "left"),
        ("table", "left"),
        ("columns", "left"),
        ("est. cost", "right"),
        ("name", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for item in advice:
        cost = ""
        if item.est_cost_before is not None:
            cost = f"{item.est_cost_before:g}"
            if item.est_cost_after is not None:
                cost += f" → {item.est_cost_after:g}"
        table.add_row(
            Text(item.status, style=_ADVICE_STYLES.get(item.status, "")),
            item.table,
            ", ".join(item.columns),
            cost,
            item.name,
        )
    console.print(table)
    for item in advice:
        if item.status == "exists":
            continue
        head = Text(f"{item.status} ", style=_ADVICE_STYLES.get(item.status, ""))
        head.append(f"{item.table} ({', '.join(item.columns)})", style="bold")
        console.print(head)
        console.print(Text(f"  {item.reason}"))
        if item.migration and item.status in ("verified", "proposed"):
            console.print(Text(f"  {item.migration}", style="green"))
    if not advice:
        console.print(Text("No index advice: no statement of the run wants an index."))
    for note in notes:
        console.print(Text(f"note: {note}", style="dim"))

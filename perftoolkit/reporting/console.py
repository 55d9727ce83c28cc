"""Terminal views of a run (the only module that imports rich).

Text from the audited project (labels, routes, messages, SQL, paths) is never given to rich as a
string, which rich would read as markup (`[link=…]`, styles): it goes in as `Text` made by
`plain()`, with control characters — a terminal's escape sequences — shown as `U+001B`.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Sequence
from typing import IO

from rich import box
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from perftoolkit.core.budgets.ratchet import BudgetUpdate
from perftoolkit.core.budgets.rules import BudgetResult, format_delta, format_value
from perftoolkit.core.diagnosis.ignore import describe_ignored
from perftoolkit.core.findings import Finding, IndexAdvice
from perftoolkit.core.runs.loadstats import LoadProgress
from perftoolkit.core.runs.run import AuditRun, sampled_at
from perftoolkit.core.runs.taskerrors import LoadException
from perftoolkit.reporting.formatting import visible

# The width of tables written to a file or a pipe (a CI log) when COLUMNS does not say: wide
# enough for most routes on one line, where rich's 80 would fold them mid-word.
LOG_COLUMNS = 132


def make_console(
    file: IO[str] | None = None, *, stderr: bool = False, width: int | None = None
) -> Console:
    return Console(file=file, stderr=stderr, width=width, soft_wrap=False, highlight=False)


def log_width(file: IO[str]) -> int | None:
    """None (the terminal's own width, or COLUMNS) on a terminal or where COLUMNS is set, else
    LOG_COLUMNS."""
    isatty = getattr(file, "isatty", None)
    if (isatty is not None and isatty()) or os.environ.get("COLUMNS", "").isdigit():
        return None
    return LOG_COLUMNS


# A route column never narrows below this: on an 80-column CI log a table of ten columns would
# otherwise leave it a few characters, and fold `GET api/courses/` one or two letters a line.
ROUTE_MIN_WIDTH = 26


def add_columns(table: Table, columns: Sequence[tuple[str, str]], wide: Sequence[str]) -> None:
    """The columns of a table: those in `wide` (routes, messages, fixes) take the room there is
    and fold their long values onto more lines, never narrower than ROUTE_MIN_WIDTH; the others
    (numbers, short words) keep their width and never wrap."""
    for name, justify in columns:
        if name in wide:
            table.add_column(
                name,
                justify=justify,  # type: ignore[arg-type]
                overflow="fold",
                min_width=ROUTE_MIN_WIDTH if name == wide[0] else None,
                ratio=1,
            )
        else:
            table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]


def plain(text: object, style: str = "") -> Text:
    """Project text for rich: no markup read from it, no control character let through."""
    return Text(visible(str(text)), style=style)


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if digits else f"{value:g}"


def render_run(run: AuditRun, console: Console) -> None:
    """Endpoints table, then one block per finding with its fix."""
    sampled = sampled_at(run.environment)
    title = plain(
        f"perftoolkit · {run.label}"
        + (f" ({sampled})" if sampled else "")
        + ("" if run.complete else " (incomplete)")
    )
    # Routes fold onto more lines rather than end in "…": on an 80-column CI log every
    # `GET api/arti…` would read the same.
    table = Table(
        title=title,
        title_justify="left",
        show_lines=False,
        box=box.SIMPLE_HEAD,  # its column divider is one space: no padding needed
        show_edge=False,
        pad_edge=False,
        padding=(0, 0),
    )
    add_columns(
        table,
        (
            ("endpoint", "left"),
            ("req", "right"),
            ("queries", "right"),
            ("dup", "right"),
            ("p50", "right"),
            ("p95", "right"),
            ("p99", "right"),
            ("find", "right"),
            ("budget", "left"),
        ),
        wide=("endpoint",),
    )
    for e in run.endpoints:
        budget = Text(
            e.budget.status,
            style={"ok": "green", "exceeded": "bold red"}.get(e.budget.status, "dim"),
        )
        if e.budget.exceeded:  # one limit a line: the column stays narrow
            budget.append("\n" + "\n".join(visible(limit) for limit in e.budget.exceeded))
        table.add_row(
            plain(f"{e.method} {e.route}"),
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
        head = plain(f"{finding.kind} ", style=style)
        head.append(visible(f"{finding.method} {finding.route}"), style="bold")
        console.print(head)
        console.print(plain(f"  {finding.message}"))
        if finding.fix is not None:
            # One unbroken line, so the fix copies whole from a terminal or a log.
            console.print(plain(f"  fix: {finding.fix.code}", style="green"), soft_wrap=True)
    if run.ignored:
        console.print(Text(describe_ignored(run.ignored), style="dim"))
    if run.load is not None:
        render_exceptions(run.load.exceptions, console)
    for note in run.notes:
        console.print(plain(f"note: {note}", style="dim"))


class AuditDisplay:
    """The live line of a running audit: phase, elapsed time, requests, failures, current rps.

    On a terminal it redraws in place; elsewhere (CI logs) it prints one line per phase.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._phase = "starting"
        self._started = time.monotonic()
        self._line = Text("")
        self._live: Live | None = None

    def __enter__(self) -> AuditDisplay:
        if self.console.is_terminal:
            self._live = Live(self._line, console=self.console, transient=True, auto_refresh=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def phase(self, name: str) -> None:
        if name == self._phase:
            return
        self._phase = name
        if self._live is None:
            self.console.print(Text(f"[{self._elapsed():>5.0f}s] {name}", style="dim"))
        self._show(Text(f"{name} · {self._elapsed():.0f}s"))

    def note(self, text: str) -> None:
        """A message the user must see (printed above the live line, which stays last)."""
        self.console.print(Text(text), soft_wrap=True)

    def steps(self, name: str, done: int, total: int) -> None:
        """Progress through a phase of counted steps (the paths a scaffold asks): redrawn on a
        terminal; elsewhere a line as it starts and at each tenth."""
        self._phase = name
        text = f"{name}: {done} of {total}"
        if self._live is None:
            if _tenth(done, total):
                self.console.print(Text(f"[{self._elapsed():>5.0f}s] {text}", style="dim"))
            return
        self._show(Text(f"{text} · {self._elapsed():.0f}s"))

    def load(self, elapsed_s: float, run_time_s: float, progress: LoadProgress | None) -> None:
        line = Text(f"{self._phase} · {self._elapsed():.0f}s · ")
        line.append(f"{min(elapsed_s, run_time_s):.0f}/{run_time_s:.0f}s of load", style="bold")
        if progress is not None:
            line.append(f" · {progress.requests} requests · ")
            line.append(
                f"{progress.failures} failures",
                style="bold red" if progress.failures else "green",
            )
            line.append(f" · {progress.rps:.1f} req/s")
        self._show(line)

    def _elapsed(self) -> float:
        return time.monotonic() - self._started

    def _show(self, line: Text) -> None:
        if self._live is not None:
            self._live.update(line, refresh=True)


def _tenth(done: int, total: int) -> bool:
    """Whether `done` is the first step or the step that reaches another tenth of `total`."""
    if not total:
        return False
    return done == 1 or done * 10 // total != (done - 1) * 10 // total


class StepsDisplay:
    """`AuditDisplay.steps` on its own, for a command with one long phase (`perf_profile
    scaffold` asking every page): written to stderr, so stdout keeps only the result."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._display = AuditDisplay(make_console(stderr=True))

    def __enter__(self) -> StepsDisplay:
        self._display.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._display.__exit__(*exc)

    def __call__(self, done: int, total: int) -> None:
        self._display.steps(self.name, done, total)


def render_audit_summary(
    run: AuditRun,
    console: Console,
    *,
    files: Sequence[tuple[str, str]] = (),
    problems: Sequence[str] = (),
) -> None:
    """The end of `perf_audit`: headline numbers, one row per endpoint, where the files are."""
    state = "complete" if run.complete else "incomplete"
    console.print(plain(f"perftoolkit audit · {run.label} ({state})", style="bold"))
    if not run.complete and run.incomplete_reason:
        console.print(plain(f"  incomplete: {run.incomplete_reason}", style="bold red"))
    if run.load is not None:
        t = run.load.total
        console.print(
            f"  {t.requests} requests · {t.failures} failures · {t.rps:.1f} req/s · "
            f"p50 {_fmt(t.p50)} ms · p95 {_fmt(t.p95)} ms · p99 {_fmt(t.p99)} ms"
        )
    kinds = Counter(f.kind for f in run.findings)
    findings = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "none"
    ratio = f"{run.cache.hits / run.cache.gets:.0%}" if run.cache.gets else "–"
    ignored = f" · {describe_ignored(run.ignored)}" if run.ignored else ""
    console.print(
        plain(
            f"  findings: {findings}{ignored} · cache hit ratio {ratio} "
            f"({run.cache.hits}/{run.cache.gets})"
        )
    )
    table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 1, 0, 0))
    add_columns(
        table,
        [
            (name, "left" if name == "endpoint" else "right")
            for name in ("endpoint", "req", "fail", "queries", "p50", "p95", "p99", "cache", "find")
        ],
        wide=("endpoint",),
    )
    for e in run.endpoints:
        table.add_row(
            plain(f"{e.method} {e.route}"),
            str(e.requests),
            Text(str(e.failures), style="red" if e.failures else ""),
            _fmt(e.queries_median),
            _fmt(e.latency_p50, 1),
            _fmt(e.latency_p95, 1),
            _fmt(e.latency_p99, 1),
            f"{e.cache.hits}/{e.cache.gets}" if e.cache.gets else "",
            str(len(e.finding_ids)) if e.finding_ids else "",
        )
    console.print(table)
    if run.load is not None:
        render_exceptions(run.load.exceptions, console)
    for note in run.notes:
        console.print(plain(f"note: {note}", style="dim"))
    for name, path in files:
        console.print(plain(f"{name:<8}{path}"))
    for problem in problems:
        console.print(Text(problem, style="bold red"))


def render_exceptions(exceptions: Sequence[LoadException], console: Console) -> None:
    """What the load test's tasks raised: how often, the message, where (the last frame)."""
    if not exceptions:
        return
    total = sum(e.count for e in exceptions)
    console.print(Text(f"  load test exceptions: {total}", style="bold red"))
    for e in exceptions:
        line = plain(f"    {e.count} × {e.message or '(no message)'}", style="red")
        if e.traceback:
            line.append(visible(f"  at {e.traceback}"), style="dim")
        console.print(line, soft_wrap=True)


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
            plain(item.status, style=_ADVICE_STYLES.get(item.status, "")),
            plain(item.table),
            plain(", ".join(item.columns)),
            cost,
            plain(item.name),
        )
    console.print(table)
    for item in advice:
        if item.status == "exists":
            continue
        head = plain(f"{item.status} ", style=_ADVICE_STYLES.get(item.status, ""))
        head.append(visible(f"{item.table} ({', '.join(item.columns)})"), style="bold")
        console.print(head)
        console.print(plain(f"  {item.reason}"))
        if item.migration and item.status in ("verified", "proposed"):
            # Its lines kept (the migration to paste), each shown as it is.
            lines = (visible(line) for line in f"  {item.migration}".splitlines())
            console.print(Text("\n".join(lines), style="green"))
    if not advice:
        console.print(Text("No index advice: no statement of the run wants an index."))
    for note in notes:
        console.print(plain(f"note: {note}", style="dim"))


def render_budget_result(result: BudgetResult, console: Console) -> None:
    """The endpoints over budget (budget, measured, delta, top finding and its fix), then a
    one-line summary. Nothing but the summary when every endpoint is within budget."""
    failed = result.failed
    if failed:
        table = Table(
            title=plain(f"Over budget ({result.source})"), title_justify="left", show_lines=False
        )
        add_columns(
            table,
            (
                ("endpoint", "left"),
                ("limit", "left"),
                ("budget", "right"),
                ("measured", "right"),
                ("delta", "right"),
                ("top finding", "left"),
                ("fix", "left"),
            ),
            wide=("endpoint", "top finding", "fix"),
        )
        for row in failed:
            top = row.findings[0] if row.findings else None
            label = plain(_finding_label(top)) if top else Text("–", style="dim")
            fix = plain(top.fix.code, style="green") if top and top.fix else Text("–", style="dim")
            first = True
            for check in row.checks:
                if not check.exceeded:
                    continue
                table.add_row(
                    plain(row.key, style="bold") if first else "",
                    plain(check.name),
                    format_value(check.budget),
                    Text(format_value(check.measured), style="red"),
                    Text(format_delta(check.delta), style="bold red"),
                    label if first else "",
                    fix if first else "",
                )
                first = False
            if row.unlisted_fails:
                table.add_row(
                    plain(row.key, style="bold") if first else "",
                    "unlisted",
                    "–",
                    "–",
                    "–",
                    label if first else "",
                    fix if first else "",
                )
        console.print(table)
        for row in failed:
            for finding in row.findings[1:]:
                line = plain(f"  also {row.key}: {_finding_label(finding)}", style="dim")
                if finding.fix is not None:
                    line.append(visible(f"  fix: {finding.fix.code}"), style="green")
                console.print(line)
    judged = len(result.judged)
    style = "bold red" if failed else "green"
    summary = Text(
        f"{len(failed)} of {judged} budgeted endpoint{'s' if judged != 1 else ''} over budget"
        if failed
        else f"All {judged} budgeted endpoint{'s' if judged != 1 else ''} within budget",
        style=style,
    )
    summary.append(visible(f" ({result.source})"), style="dim")
    console.print(summary)
    if result.not_exercised:
        names = ", ".join(b.key for b in result.not_exercised)
        console.print(plain(f"Not exercised by this report (not judged): {names}", style="dim"))


def _finding_label(finding: Finding) -> str:
    where = f" at {finding.callsite}" if finding.callsite else ""
    subject = f" {finding.path or finding.field}" if (finding.path or finding.field) else ""
    return f"{finding.kind}{subject} ×{finding.repeats}{where}"


_CHANGE_KINDS = ("added", "lowered", "raised", "kept", "same")


def render_budget_update(update: BudgetUpdate, console: Console, *, path: str, wrote: bool) -> None:
    """The diff `record` and `update` made (or would make, when `wrote` is False)."""
    changed = [c for c in update.changes if c.kind in ("added", "lowered", "raised", "kept")]
    if changed:
        table = Table(title=f"Budget changes ({path})", title_justify="left")
        add_columns(
            table,
            (
                ("endpoint", "left"),
                ("limit", "left"),
                ("old", "right"),
                ("new", "right"),
                ("measured", "right"),
                ("change", "left"),
            ),
            wide=("endpoint", "change"),
        )
        styles = {"added": "cyan", "lowered": "green", "raised": "yellow", "kept": "bold red"}
        for change in changed:
            label = (
                "kept: over budget, not raised (--allow-increase)"
                if change.kind == "kept"
                else change.kind
            )
            table.add_row(
                plain(change.key),
                plain(change.limit),
                format_value(change.old),
                format_value(change.new),
                format_value(change.measured),
                Text(label, style=styles[change.kind]),
            )
        console.print(table)
    counts = {kind: sum(c.kind == kind for c in update.changes) for kind in _CHANGE_KINDS}
    parts = [f"{n} {kind}" for kind, n in counts.items() if n]
    verb = "wrote" if wrote else "would write (dry run)"
    console.print(
        plain(f"{verb} {path}: " + (", ".join(parts) if parts else "no change"), style="bold")
    )

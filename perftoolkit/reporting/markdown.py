"""A run, or a comparison of two, as Markdown: what a pull-request comment or a job summary shows."""

from __future__ import annotations

import re

from perftoolkit.core.budgets.rules import BudgetResult, format_delta, format_value
from perftoolkit.core.diagnosis.ignore import describe_ignored
from perftoolkit.core.runs.compare import Comparison, FindingChange, latency_judged
from perftoolkit.core.runs.run import AuditRun, EndpointStats
from perftoolkit.reporting.formatting import Change, change, percent


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
        f"{len(run.findings)} findings"
        + (f", {describe_ignored(run.ignored)}" if run.ignored else "")
        + ("" if run.complete else " — **incomplete run**")
        + ".",
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


# Enough to keep project text inert mid-line: no emphasis, code, link, image, tag, entity,
# table cell or @mention can start (parentheses only matter after a `]`, which is escaped).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~&@])")


def md_text(text: str) -> str:
    """Text from the audited project (messages, labels) as inert Markdown, newlines flattened."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def md_code(text: str) -> str:
    """A code span that holds any text: a fence longer than its longest backtick run, and pipes
    escaped (GitHub splits table cells on `|` even inside code)."""
    text = " ".join(text.split()).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _change(c: Change) -> str:
    if not c.text:
        return f"{c.before} → {c.after}"
    mark = {"good": "🟢", "bad": "🔴"}.get(c.tone, "")
    return f"{c.before} → {c.after} {mark}{' ' if mark else ''}{c.text}".rstrip()


def comparison_to_markdown(comparison: Comparison) -> str:
    """compare.md: the verdict, the totals, regressions, per-endpoint changes and findings, for a
    pull-request comment. Arrows and signs carry the direction; the dots only repeat it."""
    before, after = md_text(comparison.before.label), md_text(comparison.after.label)
    tolerance = comparison.tolerance
    regressions = comparison.regressions
    lines = [f"## perftoolkit: {before} → {after}", ""]
    if regressions:
        n = len(regressions)
        lines.append(
            f"**🔴 {n} regression{'s' if n != 1 else ''}** (an endpoint's worst request ran more "
            f"queries, or its p95 rose by more than {percent(tolerance)})."
        )
    else:
        lines.append("**✅ No regressions.**")
    for side in (comparison.before, comparison.after):
        if not side.complete:
            lines.append(f"\n> ⚠️ The run {md_text(side.label)} is incomplete: it was cut short.")
    t = comparison.totals
    lines += ["", f"| | {before} → {after} |", "|---|---|"]
    for name, c in (
        ("queries per request", change(t.queries_per_request)),
        ("findings", change(t.findings)),
        ("p95 latency (ms, all requests)", change(t.latency_p95, unit="ms", tolerance=tolerance)),
        ("p99 latency (ms, all requests)", change(t.latency_p99, unit="ms", tolerance=tolerance)),
        ("cache hit rate", change(t.cache_hit_ratio, unit="ratio", higher_is_better=True)),
        ("requests", change(t.requests, neutral=True)),
    ):
        if c.tone != "none" or name == "findings":
            lines.append(f"| {name} | {_change(c)} |")
    if regressions:
        lines += ["", "### Regressions", ""]
        for e in regressions:
            lines.append(f"- {md_code(e.key)}: {md_text('; '.join(e.regressions))}")
    if comparison.endpoints:
        lines += [
            "",
            "### Endpoints",
            "",
            "| endpoint | queries median | queries max | p95 ms | findings | budget |",
            "|---|---|---|---|---|---|",
        ]
        ordered = sorted(comparison.endpoints, key=lambda e: not e.regressions)
        for e in ordered:
            flag = " 🔴" if e.regressions else ""
            few = not latency_judged(e.requests)  # latency shown, not judged (see compare)
            budget = (
                e.budget_after
                if e.budget_before == e.budget_after
                else f"{e.budget_before} → {e.budget_after}"
            )
            lines.append(
                f"| {md_code(e.key)}{flag} | {_change(change(e.queries_median))} "
                f"| {_change(change(e.queries_max))} "
                f"| {_change(change(e.latency_p95, unit='ms', tolerance=tolerance, neutral=few))} "
                f"| {_change(change(e.findings))} | {budget} |"
            )
    for title, refs in (
        (f"Only in {before}", comparison.only_before),
        (f"Only in {after}", comparison.only_after),
    ):
        if refs:
            lines += ["", f"{title}: " + ", ".join(md_code(r.key) for r in refs) + "."]
    lines += [
        "",
        f"### Findings: {len(comparison.findings_fixed)} fixed, "
        f"{len(comparison.findings_new)} new, {len(comparison.findings_remaining)} remaining",
    ]
    for mark, title, items in (
        ("🆕", "New", comparison.findings_new),
        ("✅", "Fixed", comparison.findings_fixed),
        ("⏳", "Remaining", comparison.findings_remaining),
    ):
        if items:
            lines += ["", f"**{mark} {title}**", ""]
            lines += [_finding_line(f) for f in items]
    return "\n".join(lines) + "\n"


def _finding_line(f: FindingChange) -> str:
    where = f" at {md_code(f.callsite)}" if f.callsite else ""
    return f"- {md_code(f.kind)} {md_code(f'{f.method} {f.route}')}{where}: {md_text(f.message)}"


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

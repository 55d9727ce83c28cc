"""A run, a comparison of two, or a budget check as Markdown: what a pull-request comment or a job
summary shows.

Text from the audited project (labels, routes, views, messages, SQL, file paths, exception
messages) is hostile until proven otherwise: it goes through `md_code` (a code span, shown
literally) or `md_text` (escaped so no emphasis, link, image, tag, entity, mention, heading, list,
autolink or math can start), with control and bidirectional-override characters made visible.
Numbers and perftoolkit's own words are the only raw text.
"""

from __future__ import annotations

import re

from perftoolkit.core.budgets.rules import BudgetResult, format_delta, format_value
from perftoolkit.core.diagnosis.ignore import describe_ignored
from perftoolkit.core.runs.compare import Comparison, FindingChange, latency_sentence
from perftoolkit.core.runs.run import AuditRun, EndpointStats, sampled_at
from perftoolkit.core.runs.taskerrors import LoadException
from perftoolkit.reporting.formatting import (
    Change,
    change,
    latency_change,
    percent,
    query_change,
    verdict_text,
    visible,
)

# Enough to keep project text inert mid-line: no emphasis, code, link, image, tag, entity, table
# cell, mention, heading, strikethrough or math can start (parentheses only matter after a `]`,
# which is escaped).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~&@#$])")
# GitHub links bare URLs and www. names; a backslash before the colon or dot stops it.
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<=www)(\.)")
_WORD = re.compile(r"[a-z][a-z0-9_]*")
# A list or block marker where the text starts a line (a note in a block quote).
_LINE_START = re.compile(r"^([-+=]|\d+[.)])")


def md_text(text: str) -> str:
    """Text from the audited project as inert Markdown, on one line."""
    if _WORD.fullmatch(text):
        return text  # an identifier (a finding kind, a limit): nothing in it can start markup
    escaped = _MD_SPECIAL.sub(r"\\\1", visible(" ".join(text.split())))
    escaped = _AUTOLINK.sub(lambda m: "\\" + m.group(0), escaped)
    return _LINE_START.sub(r"\\\1", escaped)


def md_code(text: str) -> str:
    """A code span that holds any text: a fence longer than its longest backtick run, and pipes
    escaped (GitHub splits table cells on `|` even inside code)."""
    text = visible(" ".join(text.split())).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if digits else f"{value:g}"


def endpoint_row(e: EndpointStats) -> str:
    exceeded = "❌ " + md_text(", ".join(e.budget.exceeded))
    status = {"ok": "✅ ok", "exceeded": exceeded, "none": "–"}.get(
        e.budget.status, md_text(e.budget.status)
    )
    return (
        f"| {md_code(e.key)} | {e.requests} | {_num(e.queries_median)} | {_num(e.queries_max)} "
        f"| {_num(e.duplicates_median)} | {_num(e.latency_p50, 1)} | {_num(e.latency_p95, 1)} "
        f"| {_num(e.latency_p99, 1)} | {len(e.finding_ids)} | {status} |"
    )


def run_to_markdown(run: AuditRun) -> str:
    lines = [
        f"## perftoolkit report: {md_text(run.label)}",
        "",
        f"{len(run.endpoints)} endpoints, {sum(e.requests for e in run.endpoints)} requests"
        + (f" recorded ({sampled})" if (sampled := sampled_at(run.environment)) else "")
        + ", "
        f"{len(run.findings)} findings"
        + (f", {describe_ignored(run.ignored)}" if run.ignored else "")
        + ("" if run.complete else " — **incomplete run**")
        + ".",
    ]
    if not run.complete and run.incomplete_reason:
        lines += ["", f"> ⚠️ Incomplete: {md_text(run.incomplete_reason)}"]
    lines += [
        "",
        "| endpoint | requests | queries (median) | queries (max) | duplicates | p50 ms | p95 ms | p99 ms | findings | budget |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines.extend(endpoint_row(e) for e in run.endpoints)
    if run.findings:
        lines += ["", "### Findings", "", "| endpoint | kind | where | fix |", "|---|---|---|---|"]
        for f in run.findings:
            where = md_code(str(f.callsite)) if f.callsite else "–"
            fix = md_code(f.fix.code) if f.fix else "–"
            lines.append(
                f"| {md_code(f'{f.method} {f.route}')} | {md_text(f.kind)} ×{f.repeats} "
                f"| {where} | {fix} |"
            )
    if run.load is not None and run.load.exceptions:
        lines += ["", *exceptions_lines(run.load.exceptions)]
    for note in run.notes:
        lines.append(f"\n> {md_text(note)}")
    return "\n".join(lines) + "\n"


def exceptions_lines(exceptions: tuple[LoadException, ...]) -> list[str]:
    """The load test's exceptions: how often, what, and where (the traceback's last frame)."""
    total = sum(e.count for e in exceptions)
    lines = [
        f"### Load test exceptions: {total}",
        "",
        "| times | exception | raised at |",
        "|---:|---|---|",
    ]
    for e in exceptions:
        where = md_code(e.traceback) if e.traceback else "–"
        lines.append(f"| {e.count} | {md_text(e.message) or '–'} | {where} |")
    return lines


def _change(c: Change) -> str:
    if not c.text:
        return f"{c.before} → {c.after}"
    mark = {"good": "🟢", "bad": "🔴"}.get(c.tone, "")
    text = f"{c.before} → {c.after} {mark}{' ' if mark else ''}{c.text}".rstrip()
    return f"{text} (not judged)" if c.tone == "unjudged" else text


def comparison_to_markdown(comparison: Comparison) -> str:
    """compare.md: the verdict, the totals, regressions, per-endpoint changes and findings, for a
    pull-request comment. Arrows and signs carry the direction; the dots only repeat it."""
    before, after = md_text(comparison.before.label), md_text(comparison.after.label)
    tolerance, confidence = comparison.tolerance, comparison.confidence
    regressions = comparison.regressions
    lines = [f"## perftoolkit: {before} → {after}", ""]
    rule = (
        f"(an endpoint's worst request ran more queries, or a rank test found its requests slower "
        f"by more than {percent(tolerance)} at {percent(confidence)} confidence)"
    )
    if regressions:
        n = len(regressions)
        lines.append(f"**🔴 {n} regression{'s' if n != 1 else ''}** {rule}.")
    else:
        lines.append(f"**✅ No regressions** {rule}.")
    unjudged = comparison.not_judged
    if unjudged:
        lines.append(
            f"\nLatency **not judged** on {len(unjudged)} of {len(comparison.endpoints)} "
            "endpoints: fewer than 10 timed requests in a run, or no durations recorded."
        )
    if comparison.drift is not None:
        lines.append(
            f"\nThe run as a whole moved ×{comparison.drift.factor:.2f} (median of "
            f"{comparison.drift.endpoints} endpoints); an endpoint is slower only past that."
        )
    for side in (comparison.before, comparison.after):
        if not side.complete:
            lines.append(f"\n> ⚠️ The run {md_text(side.label)} is incomplete.")
    t = comparison.totals
    lines += ["", f"| | {before} → {after} |", "|---|---|"]
    for name, c in (
        ("queries per request", change(t.queries_per_request)),
        ("findings", change(t.findings)),
        ("p95 latency (ms, all requests)", change(t.latency_p95, unit="ms", neutral=True)),
        ("p99 latency (ms, all requests)", change(t.latency_p99, unit="ms", neutral=True)),
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
            "| endpoint | queries median | queries max | p95 ms | latency | findings | budget |",
            "|---|---|---|---|---|---|---|",
        ]
        ordered = sorted(comparison.endpoints, key=lambda e: not e.regressions)
        for e in ordered:
            flag = " 🔴" if e.regressions else ""
            budget = (
                e.budget_after
                if e.budget_before == e.budget_after
                else f"{e.budget_before} → {e.budget_after}"
            )
            lines.append(
                f"| {md_code(e.key)}{flag} | {_change(query_change(e.queries_median, e.queries))} "
                f"| {_change(query_change(e.queries_max, e.queries))} "
                f"| {_change(latency_change(e.latency_p95, e.latency))} "
                f"| {verdict_text(e.latency)} "
                f"| {_change(change(e.findings))} | {md_text(budget)} |"
            )
        judged = [e for e in ordered if e.latency.status in ("slower", "faster")]
        if judged:
            lines += ["", "<details><summary>Latency tests</summary>", ""]
            for e in judged:
                sentence = latency_sentence(e.latency, tolerance, confidence, comparison.drift)
                lines.append(f"- {md_code(e.key)}: {md_text(sentence)}")
            lines += ["", "</details>"]
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
    lines = [f"## perftoolkit budgets: {head}", "", f"Budget file: {md_code(result.source)}", ""]
    if failed:
        lines += [
            "| endpoint | limit | budget | measured | delta | top finding | fix |",
            "|---|---|---:|---:|---:|---|---|",
        ]
        for row in failed:
            top = row.findings[0] if row.findings else None
            finding = (
                f"{md_text(top.kind)} ×{top.repeats}"
                + (f" at {md_code(str(top.callsite))}" if top.callsite else "")
                if top
                else "–"
            )
            fix = md_code(top.fix.code) if top and top.fix else "–"
            over = [c for c in row.checks if c.exceeded]
            for index, check in enumerate(over):
                first = index == 0
                lines.append(
                    f"| {md_code(row.key) if first else ''} | {md_text(check.name)} "
                    f"| {format_value(check.budget)} | {format_value(check.measured)} "
                    f"| **{format_delta(check.delta)}** | {finding if first else ''} "
                    f"| {fix if first else ''} |"
                )
            if row.unlisted_fails:
                lines.append(
                    f"| {md_code(row.key)} | unlisted | – | – | – | no table in the budget file | "
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
                f"| {md_code(row.key)} | {format_value(queries.measured if queries else None)} "
                f"| {format_value(queries.budget if queries else None)} |"
            )
        lines += ["", "</details>", ""]
    if result.not_exercised:
        keys = ", ".join(md_code(b.key) for b in result.not_exercised)
        lines += [f"Not exercised (not judged): {keys}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"

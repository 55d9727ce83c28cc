"""Ignored findings are counted in every view of a run: Markdown, terminal, HTML."""

from __future__ import annotations

import io

from perftoolkit.core.findings import Finding, IgnoredFinding
from perftoolkit.reporting.console import make_console, render_audit_summary, render_run
from perftoolkit.reporting.html import render_run_html
from perftoolkit.reporting.markdown import run_to_markdown
from tests.support.runs import before_run

IGNORED = (
    IgnoredFinding(
        Finding("n_plus_one", "GET", "a/", "m", field="tags"), "PERFTOOLKIT['IGNORE'][0]"
    ),
    IgnoredFinding(
        Finding("n_plus_one", "GET", "b/", "m", field="tags"), "PERFTOOLKIT['IGNORE'][0]"
    ),
    IgnoredFinding(Finding("duplicate_query", "GET", "b/", "m"), "inline comment"),
)
TEXT = "3 findings ignored (2 by PERFTOOLKIT['IGNORE'][0], 1 by inline comment)"


def test_markdown_counts_ignored() -> None:
    run = before_run().with_changes(ignored=IGNORED)
    assert f", {TEXT}." in run_to_markdown(run).splitlines()[2]
    assert "ignored" not in run_to_markdown(before_run())


def test_terminal_counts_ignored() -> None:
    run = before_run().with_changes(ignored=IGNORED)
    out = io.StringIO()
    render_run(run, make_console(out, width=200))
    assert TEXT in out.getvalue()
    out = io.StringIO()
    render_audit_summary(run, make_console(out, width=200), files=[], problems=[])
    assert f"· {TEXT} ·" in out.getvalue()


def test_html_counts_ignored() -> None:
    run = before_run().with_changes(ignored=IGNORED)
    assert TEXT.replace("'", "&#x27;") in render_run_html(run)

"""`perftoolkit report …`: build, show, render and compare report.json files (no Django needed);
the same verbs and flags as `manage.py perf_report …` (`reporting/options.py`)."""

from __future__ import annotations

import sys

import typer

from perftoolkit.cli.options import options_command
from perftoolkit.reporting.options import (
    ReportBuildOptions,
    ReportCompareOptions,
    ReportHtmlOptions,
    ReportShowOptions,
)

app = typer.Typer(help="Build and read report.json files.", no_args_is_help=True)


def _build(options: ReportBuildOptions) -> None:

    from perftoolkit.reporting.commands import build_report_file

    typer.echo(build_report_file(options))


def _show(options: ReportShowOptions) -> None:
    from perftoolkit.reporting.commands import show_report

    show_report(options, sys.stdout)


def _compare(options: ReportCompareOptions) -> None:
    from perftoolkit.reporting.comparing import compare_reports, summary

    comparison = compare_reports(
        options.before,
        options.after,
        options.out_dir,
        tolerance=options.tolerance,
        confidence=options.confidence,
        fail_on=options.fail_on,
    )
    typer.echo(summary(comparison, options.out_dir))


def _html(options: ReportHtmlOptions) -> None:
    from perftoolkit.reporting.commands import write_report_html

    typer.echo(str(write_report_html(options)))


app.command("build")(
    options_command(
        ReportBuildOptions,
        _build,
        name="build",
        doc="Turn a record directory into a report.json (perftoolkit.audit/1).",
    )
)
app.command("show")(
    options_command(
        ReportShowOptions,
        _show,
        name="show",
        doc="Print a report: endpoints, findings and their fixes.",
    )
)
app.command("compare")(
    options_command(
        ReportCompareOptions,
        _compare,
        name="compare",
        doc="""Compare two runs: per-endpoint deltas, findings fixed / new / remaining, regressions.

    A regression: an endpoint's worst request ran more queries, or its p95 rose past --tolerance.
    """,
    )
)
app.command("html")(
    options_command(
        ReportHtmlOptions,
        _html,
        name="html",
        doc="Write the self-contained HTML report of a report.json.",
    )
)

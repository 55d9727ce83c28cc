"""`perftoolkit report …`: build, show, render and compare report.json files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from perftoolkit.core.runs.compare import DEFAULT_TOLERANCE
from perftoolkit.reporting.schema import REPORT_FILE, build_summary

app = typer.Typer(help="Build and read report.json files.", no_args_is_help=True)


class Format(StrEnum):
    terminal = "terminal"
    markdown = "markdown"
    json = "json"


@app.command("build")
def report_build(
    record_dirs: Annotated[
        list[Path],
        typer.Argument(
            help="Directory PERFTOOLKIT_RECORD_DIR pointed at; several (one per server) merge."
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write report.json.")
    ] = Path(REPORT_FILE),
    label: Annotated[
        str | None, typer.Option(help="Name of the run (default: the directory's name).")
    ] = None,
) -> None:
    """Turn record directories into a report.json (perftoolkit.audit/1)."""
    from perftoolkit.middleware.recording import build_report
    from perftoolkit.reporting.outputs import check_output_file
    from perftoolkit.reporting.schema import write_run

    check_output_file(output, "-o", REPORT_FILE)
    run = build_report(record_dirs, label=label)
    write_run(run, output)
    typer.echo(build_summary(output, run))


@app.command("show")
def report_show(
    report: Annotated[Path, typer.Argument(help="A report.json.")],
    format: Annotated[
        Format, typer.Option("--format", "-f", help="terminal, markdown or json.")
    ] = Format.terminal,
) -> None:
    """Print a report: endpoints, findings and their fixes."""
    from perftoolkit.reporting.schema import dumps, read_run, run_to_dict

    run = read_run(report)
    if format is Format.json:
        typer.echo(dumps(run_to_dict(run, location=report)), nl=False)
    elif format is Format.markdown:
        from perftoolkit.reporting.markdown import run_to_markdown

        typer.echo(run_to_markdown(run), nl=False)
    else:
        from perftoolkit.reporting.console import make_console, render_run

        render_run(run, make_console())


class FailOn(StrEnum):
    regression = "regression"


@app.command("compare")
def report_compare(
    before: Annotated[
        Path, typer.Argument(help="The earlier report.json, or the directory holding it.")
    ],
    after: Annotated[
        Path, typer.Argument(help="The later report.json, or the directory holding it.")
    ],
    out_dir: Annotated[
        Path,
        typer.Option(
            "-o", "--out-dir", help="Where to write compare.json, index.html and compare.md."
        ),
    ] = Path("reports/compare"),
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on", help="Exit 3 when an endpoint regressed (after writing the report)."
        ),
    ] = None,
    tolerance: Annotated[
        float,
        typer.Option(
            help="How much p95 may rise before it is a regression: 0.1 allows +10 % "
            "(judged where both runs measured the endpoint at least 20 times)."
        ),
    ] = DEFAULT_TOLERANCE,
) -> None:
    """Compare two runs: per-endpoint deltas, findings fixed / new / remaining, regressions.

    A regression: an endpoint's worst request ran more queries, or its p95 rose past --tolerance.
    """
    from perftoolkit.reporting.comparing import compare_reports, summary
    from perftoolkit.reporting.outputs import check_output_dir

    check_output_dir(out_dir, "--out-dir")
    comparison = compare_reports(
        before,
        after,
        out_dir,
        tolerance=tolerance,
        fail_on=fail_on.value if fail_on else None,
    )
    typer.echo(summary(comparison, out_dir))


@app.command("html")
def report_html(
    report: Annotated[Path, typer.Argument(help="A report.json, or the directory holding it.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Where to write the page (default: index.html beside it)."
        ),
    ] = None,
) -> None:
    """Write the self-contained HTML report of a report.json."""
    from perftoolkit.reporting.comparing import find_report
    from perftoolkit.reporting.html import write_run_html
    from perftoolkit.reporting.outputs import check_output_file
    from perftoolkit.reporting.schema import read_run

    source = find_report(report)
    target = check_output_file(output or source.with_name("index.html"), "-o", "index.html")
    path = write_run_html(read_run(source), target)
    typer.echo(str(path))

"""`perftoolkit report …`: build, show (and compare) report.json files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Build and read report.json files.", no_args_is_help=True)


class Format(StrEnum):
    terminal = "terminal"
    markdown = "markdown"
    json = "json"


@app.command("build")
def report_build(
    record_dir: Annotated[
        Path, typer.Argument(help="Directory PERFTOOLKIT_RECORD_DIR pointed at.")
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write report.json.")
    ] = Path("report.json"),
    label: Annotated[
        str | None, typer.Option(help="Name of the run (default: the directory's name).")
    ] = None,
) -> None:
    """Turn a record directory into a report.json (perftoolkit.audit/1)."""
    from perftoolkit.recording import build_report
    from perftoolkit.reporting.schema import write_run

    run = build_report(record_dir, label=label)
    write_run(run, output)
    typer.echo(
        f"{output}: {len(run.endpoints)} endpoints, {sum(e.requests for e in run.endpoints)} requests, "
        f"{len(run.findings)} findings"
    )


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

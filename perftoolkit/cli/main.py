"""The `perftoolkit` console script: verbs that work on recordings and reports, no Django needed.

Exit codes: 0 ok, 1 bad input or error (one message, no traceback), 2 wrong usage, 3 a gate failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import click
import typer

import perftoolkit
from perftoolkit.exceptions import PerfToolkitError

app = typer.Typer(
    name="perftoolkit",
    help="Find and prove performance problems in Django backends.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
report_app = typer.Typer(help="Build and read report.json files.", no_args_is_help=True)
app.add_typer(report_app, name="report")


class Format(StrEnum):
    terminal = "terminal"
    markdown = "markdown"
    json = "json"


@app.command()
def version() -> None:
    """Print perftoolkit's version."""
    typer.echo(perftoolkit.__version__)


@report_app.command("build")
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


@report_app.command("show")
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
        typer.echo(dumps(run_to_dict(run)), nl=False)
    elif format is Format.markdown:
        from perftoolkit.reporting.markdown import run_to_markdown

        typer.echo(run_to_markdown(run), nl=False)
    else:
        from perftoolkit.reporting.console import make_console, render_run

        render_run(run, make_console())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script's entry point)."""
    try:
        app(
            args=list(argv) if argv is not None else None,
            prog_name="perftoolkit",
            standalone_mode=False,
        )
    except PerfToolkitError as exc:
        typer.echo(f"Error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        typer.echo("Aborted.", err=True)
        return 1
    return 0

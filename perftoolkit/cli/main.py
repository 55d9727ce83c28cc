"""The `perftoolkit` console script."""

from __future__ import annotations

from collections.abc import Sequence

import typer

import perftoolkit

app = typer.Typer(
    name="perftoolkit",
    help="Find and prove performance problems in Django backends.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def version() -> None:
    """Print perftoolkit's version."""
    typer.echo(perftoolkit.__version__)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script's entry point)."""
    try:
        app(
            args=list(argv) if argv is not None else None,
            prog_name="perftoolkit",
            standalone_mode=False,
        )
    except SystemExit as exc:
        return int(exc.code or 0)
    except typer.Exit as exc:
        return exc.exit_code
    return 0

"""The `perftoolkit` console script: verbs that work on recordings and reports, no Django needed.

Exit codes: 0 ok, 1 bad input or error (one message, no traceback), 2 wrong usage, 3 a gate failed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import typer

import perftoolkit
from perftoolkit.cli import audit, budget, fix, indexes, profile, report
from perftoolkit.exceptions import PerfToolkitError

app = typer.Typer(
    name="perftoolkit",
    help="Find and prove performance problems in Django backends.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def version() -> None:
    """Print perftoolkit's version."""
    typer.echo(perftoolkit.__version__)


# One module per verb group; each registers here with one line.
app.add_typer(report.app, name="report")
app.command("audit")(audit.audit)
app.command(name="indexes")(indexes.indexes)
app.add_typer(budget.app, name="budget")
app.command("fix")(fix.fix)
app.add_typer(profile.app, name="profile")


def command() -> Any:
    """The click command behind `app`, with no type column beside flags: `--help` and
    `--x/--no-x` take no value, so typer's `<bool>` there reads as if they did."""
    root = typer.main.get_command(app)
    for each in _walk(root):
        for param in each.get_params(each.context_class(each)):
            if getattr(param, "is_flag", False):
                param.metavar = ""
    return root


def _walk(command: Any) -> Iterator[Any]:
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _walk(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script's entry point)."""
    try:
        # Outside standalone mode click returns a command's `typer.Exit(code)` instead of raising.
        result = command().main(
            args=list(argv) if argv is not None else None,
            prog_name="perftoolkit",
            standalone_mode=False,
        )
    except PerfToolkitError as exc:
        typer.echo(f"Error: {exc}", err=True)
        return exc.exit_code
    except OSError as exc:
        # A path the system refuses (a name too long, a symbolic link loop, a vanished file)
        # that no command anticipated: still one line, not a traceback.
        where = f"{exc.filename}: " if exc.filename is not None else ""
        typer.echo(f"Error: {where}{exc.strerror or exc}.", err=True)
        return 1
    except ValueError as exc:
        if "null byte" not in str(exc):
            raise
        typer.echo("Error: a path given contains a NUL byte; no file can have that name.", err=True)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return 1
    except typer.TyperException as exc:  # usage errors: typer's click says what was wrong
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"Error: {exc}", err=True)
        return int(getattr(exc, "exit_code", 2))
    return result if isinstance(result, int) else 0

"""`perftoolkit fix`: the same run as `manage.py perf_fix`, from outside the project."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from perftoolkit.cli.audit import PROJECT_OPTIONS, setup_project
from perftoolkit.cli.options import options_command
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.fix.options import FixOptions


def _run(options: FixOptions, *, settings: str | None, project_dir: Path | None) -> None:
    from perftoolkit.core.fix.outcome import render_table
    from perftoolkit.fix.service import run_fix, summary

    module = settings or os.environ.get("DJANGO_SETTINGS_MODULE")
    if not module:
        raise ConfigurationError(
            "perftoolkit fix replays requests inside the project: give its settings module with "
            "--settings (and --project-dir, the directory that holds manage.py)."
        )
    root = (project_dir or Path.cwd()).resolve()
    setup_project(module, root, required=True)
    result = run_fix(
        options,
        settings_module=module,
        project_dir=root,
        progress=lambda m: typer.echo(m, err=True),
    )
    typer.echo(render_table(result.outcomes))
    typer.echo(summary(result, options))
    if result.exit_code:
        raise typer.Exit(result.exit_code)


fix = options_command(
    FixOptions,
    _run,
    name="fix",
    doc="""Write the report's N+1, lazy-relation and duplicate-query fixes into the source, each
    kept only when a replay of the recorded requests shows fewer queries and the same responses.

    Exit codes: 0 every fixable finding verified, 1 bad input, 3 some could not be verified.
    """,
    extra=PROJECT_OPTIONS,
)

"""`perftoolkit profile scaffold`: the same as `manage.py perf_profile scaffold`, from outside the
project (`--settings` or DJANGO_SETTINGS_MODULE, and `--project-dir`)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from perftoolkit.audit.options import SCAFFOLD_STEPS, ScaffoldOptions
from perftoolkit.cli.audit import PROJECT_OPTIONS, setup_project
from perftoolkit.cli.options import options_command

app = typer.Typer(help="Locust profiles for audits.", no_args_is_help=True)


def _run(options: ScaffoldOptions, *, settings: str | None, project_dir: Path | None) -> None:
    from perftoolkit.audit.scaffold import scaffold
    from perftoolkit.reporting.console import StepsDisplay

    setup_project(settings or os.environ.get("DJANGO_SETTINGS_MODULE"), project_dir, required=True)
    with StepsDisplay(SCAFFOLD_STEPS) as progress:
        result = scaffold(options, progress)
    try:
        shown = str(result.path.relative_to(options.cwd))
    except ValueError:
        shown = str(result.path)
    typer.echo(result.summary(shown))
    typer.echo(f"Run it: perftoolkit audit --profile {result.path.stem}")


app.command("scaffold")(
    options_command(
        ScaffoldOptions,
        _run,
        name="scaffold",
        doc="""Write a Locust profile from the URLconf: a task per route, real rows, a login.""",
        extra=PROJECT_OPTIONS,
    )
)

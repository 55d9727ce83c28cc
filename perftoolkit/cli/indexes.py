"""`perftoolkit indexes`: index advice for a report.json, verified by the planner.

Unlike the other verbs it needs the project's Django settings (it reads the models and EXPLAINs
on the database): DJANGO_SETTINGS_MODULE, or `--settings`, run from the project's directory.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from perftoolkit.exceptions import ConfigurationError


class VerifyWith(StrEnum):
    hypopg = "hypopg"
    rollback = "rollback"


def setup_django(settings: str | None) -> None:
    """Configure Django from `settings` or DJANGO_SETTINGS_MODULE, as manage.py would."""
    if settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings
    module = os.environ.get("DJANGO_SETTINGS_MODULE")
    if not module:
        raise ConfigurationError(
            "perftoolkit indexes reads your models and EXPLAINs on your database, so it needs "
            "your Django settings: set DJANGO_SETTINGS_MODULE=<project>.settings (or pass "
            "--settings) and run it from the directory manage.py is in, or run "
            "`python manage.py perf_indexes` instead."
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    import django

    try:
        django.setup()
    except ImportError as exc:
        raise ConfigurationError(
            f"Django settings {module!r} cannot be imported ({exc}). Run from the directory "
            "manage.py is in, or fix DJANGO_SETTINGS_MODULE."
        ) from None


def indexes(
    report: Annotated[Path, typer.Option("--report", help="A report.json.")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print only the indexes[] list as JSON.")
    ] = False,
    update_report: Annotated[
        bool, typer.Option("--update-report", help="Write the advice into the report.")
    ] = False,
    write_migration: Annotated[
        str | None,
        typer.Option("--write-migration", metavar="APP_LABEL", help="Write an AddIndex migration."),
    ] = None,
    record_dir: Annotated[
        Path | None, typer.Option(help="Where the sample parameters are (default: the report's).")
    ] = None,
    verify_with: Annotated[
        VerifyWith | None,
        typer.Option(help="PostgreSQL: hypopg (default when present) or rollback."),
    ] = None,
    min_cost_factor: Annotated[
        float, typer.Option(help="PostgreSQL: how many times cheaper a plan must get.")
    ] = 1.5,
    min_rows: Annotated[int, typer.Option(help="Leave tables smaller than this alone.")] = 1000,
    database: Annotated[str, typer.Option(help="The database alias to EXPLAIN on.")] = "default",
    include_params: Annotated[
        bool, typer.Option(help="Keep parameter values in the plans shown.")
    ] = False,
    settings: Annotated[
        str | None, typer.Option(help="Django settings module (else DJANGO_SETTINGS_MODULE).")
    ] = None,
) -> None:
    """Propose indexes for a report's queries and verify each with the database's planner."""
    setup_django(settings)
    from perftoolkit.indexes.adviser import advise_report
    from perftoolkit.indexes.migration import (
        check_migration_target,
        describe_migration,
        write_index_migration,
    )
    from perftoolkit.reporting.schema import dumps

    if write_migration:
        check_migration_target(write_migration)
    result = advise_report(
        report,
        record_dir=record_dir,
        database=database,
        verify_with=verify_with.value if verify_with else None,
        min_cost_factor=min_cost_factor,
        min_rows=min_rows,
        include_params=include_params,
        update_report=update_report,
    )
    written = (
        write_index_migration(result.advice, write_migration, database=database)
        if write_migration
        else None
    )
    if json_output:
        typer.echo(dumps([a.to_dict() for a in result.advice]), nl=False)
    else:
        from perftoolkit.reporting.console import make_console, render_indexes

        render_indexes(result.advice, make_console(), notes=result.notes)
    if write_migration:
        typer.echo(describe_migration(written, write_migration), nl=False, err=json_output)

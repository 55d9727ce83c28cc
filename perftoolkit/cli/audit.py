"""`perftoolkit audit`: the same run as `manage.py perf_audit`, from outside the project."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from perftoolkit.audit.options import AuditOptions
from perftoolkit.cli.options import extra_option, options_command
from perftoolkit.exceptions import ConfigurationError


def _run(options: AuditOptions, *, settings: str | None, project_dir: Path | None) -> None:
    from perftoolkit.audit.orchestrator import run_audit_and_report

    setup_project(settings or os.environ.get("DJANGO_SETTINGS_MODULE"), project_dir)
    outcome = run_audit_and_report(options, stdout=sys.stdout)
    for problem in outcome.problems:
        typer.echo(f"Error: {problem}" if problem == outcome.error else problem, err=True)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


# The flags only the CLI has: the management commands run inside the project already.
PROJECT_OPTIONS = [
    extra_option(
        "settings",
        str | None,
        None,
        "The project's settings module (default: DJANGO_SETTINGS_MODULE).",
    ),
    extra_option(
        "project_dir",
        Path | None,
        None,
        "The directory the settings module imports from (where manage.py is).",
    ),
]

audit = options_command(
    AuditOptions,
    _run,
    name="audit",
    doc="""Run Locust against the project under a real server; write report.json and index.html.

    Exit codes: 0 the run completed (findings never fail it), 1 an error or an interrupted run,
    3 a --fail-on gate failed.
    """,
    extra=PROJECT_OPTIONS,
)


def setup_project(
    settings_module: str | None, project_dir: Path | None, *, required: bool = False
) -> None:
    """Configure Django for the project (nothing to do for --url without settings, unless the
    command needs the project: then a missing settings module is an error)."""
    if not settings_module:
        if required:
            raise ConfigurationError(
                "This command reads your project (its URLconf, models and database), so it needs "
                "its settings: pass --settings <project>.settings (or set "
                "DJANGO_SETTINGS_MODULE) and --project-dir, or run it through manage.py."
            )
        return
    import django
    from django.conf import settings

    root = (project_dir or Path.cwd()).resolve()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    try:
        django.setup()
        settings.INSTALLED_APPS  # noqa: B018 (imports the module now, to report it here)
    except ImportError as exc:
        raise ConfigurationError(
            f"Cannot import the settings module {settings_module!r} from {root} ({exc}). Pass "
            "--project-dir with the directory that holds manage.py, or fix --settings."
        ) from None

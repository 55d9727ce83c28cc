"""`perftoolkit indexes`: index advice for a report.json, verified by the planner.

Unlike the other verbs it needs the project's Django settings (it reads the models and EXPLAINs
on the database): DJANGO_SETTINGS_MODULE, or `--settings`, run from the project's directory.
"""

from __future__ import annotations

import os
import sys

from perftoolkit.cli.options import extra_option, options_command
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.indexes.options import IndexOptions


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


def _run(options: IndexOptions, *, settings: str | None) -> None:
    setup_django(settings)
    from perftoolkit.indexes.command import run_index_command

    run_index_command(options, stdout=sys.stdout, stderr=sys.stderr)


indexes = options_command(
    IndexOptions,
    _run,
    name="indexes",
    doc="Propose indexes for a report's queries and verify each with the database's planner.",
    extra=[
        extra_option(
            "settings", str | None, None, "Django settings module (else DJANGO_SETTINGS_MODULE)."
        )
    ],
)

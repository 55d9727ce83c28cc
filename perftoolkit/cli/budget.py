"""`perftoolkit budget check|record|update`: a report.json against perf-budgets.toml.

Runs without Django. With `--settings` (or DJANGO_SETTINGS_MODULE set) it sets Django up from the
working directory, so the budget file's routes are also checked against the URLconf and
findings' paths resolve against settings.BASE_DIR — what `manage.py perf_budget` always does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection
from pathlib import Path

import typer

from perftoolkit.budgets.gate import BudgetOptions
from perftoolkit.cli.options import extra_option, options_command
from perftoolkit.exceptions import ConfigurationError

app = typer.Typer(
    help="Per-endpoint query budgets: check a report against perf-budgets.toml, record or "
    "ratchet the file. Exit codes: 0 ok, 1 bad input, 3 an endpoint over budget.",
    no_args_is_help=True,
)

SETTINGS = extra_option(
    "settings",
    str | None,
    None,
    "Django settings module (as DJANGO_SETTINGS_MODULE). Without it, or that variable, the CLI "
    "runs without Django and skips checking that each budgeted route still exists in the URLconf.",
)
DOCS = {
    "check": "Judge each endpoint's worst request against its budget; exit 3 when one is over.",
    "record": "Write budgets from the report's measured values (the file is created when missing; "
    "comments, order and endpoints the report did not reach are kept).",
    "update": "Ratchet: lower every budget the report now beats, add missing endpoints, never "
    "raise one without --allow-increase; print the diff.",
}


def _command(action: str) -> Callable[..., None]:
    def run(options: BudgetOptions, *, settings: str | None) -> None:
        _run(action, options, settings)

    return options_command(
        BudgetOptions, run, name=action, doc=DOCS[action], extra=[SETTINGS], subcommand=action
    )


for _action in DOCS:
    app.command(_action)(_command(_action))


def _run(action: str, options: BudgetOptions, settings: str | None) -> None:
    from perftoolkit.budgets.gate import run_budget_command

    routes, roots = _django(settings)
    run_budget_command(action, options, stdout=sys.stdout, routes=routes, roots=roots)


def _django(settings: str | None) -> tuple[Collection[str] | None, list[Path]]:
    """Set Django up when asked; the URLconf's routes and BASE_DIR, or (None, [])."""
    module = settings or os.environ.get("DJANGO_SETTINGS_MODULE")
    if not module:
        return None, []
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as manage.py does: the project is importable from here
    import django
    from django.conf import settings as django_settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
        from perftoolkit.urlconf import keyer_routes, url_routes

        routes = url_routes() | keyer_routes()
    except (ImportError, ImproperlyConfigured) as exc:
        raise ConfigurationError(
            f"Django settings {module!r} cannot be loaded ({type(exc).__name__}: {exc}). Run from "
            "the directory manage.py is in, or leave out --settings / DJANGO_SETTINGS_MODULE to "
            "skip the URLconf check."
        ) from None
    base_dir = getattr(django_settings, "BASE_DIR", None)
    return routes, [Path(os.fspath(base_dir))] if base_dir else []

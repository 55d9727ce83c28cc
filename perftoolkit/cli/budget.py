"""`perftoolkit budget check|record|update`: a report.json against perf-budgets.toml.

Runs without Django. With `--settings` (or DJANGO_SETTINGS_MODULE set) it sets Django up from the
working directory, so the budget file's routes are also checked against the URLconf and
findings' paths resolve against settings.BASE_DIR — what `manage.py perf_budget` always does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from perftoolkit.exceptions import ConfigurationError

if TYPE_CHECKING:
    from perftoolkit.budgets.gate import BudgetOptions

app = typer.Typer(
    help="Per-endpoint query budgets: check a report against perf-budgets.toml, record or "
    "ratchet the file. Exit codes: 0 ok, 1 bad input, 3 an endpoint over budget.",
    no_args_is_help=True,
)

Report = Annotated[
    Path, typer.Option("--report", help="The report.json to judge (perftoolkit.audit/1).")
]
Budgets = Annotated[
    Path | None,
    typer.Option(
        "--budgets",
        help="The budget file (default: perf-budgets.toml in the working directory, or where "
        "[tool.perftoolkit] budgets in pyproject.toml points, or settings.BASE_DIR).",
    ),
]
Settings = Annotated[
    str | None,
    typer.Option(
        "--settings",
        help="Django settings module (as DJANGO_SETTINGS_MODULE). Without it, or that variable, "
        "the CLI runs without Django and skips checking that each budgeted route still exists "
        "in the URLconf.",
    ),
]
Headroom = Annotated[
    str | None,
    typer.Option("--headroom", help="Add N queries (`2`) or N percent (`20%`) to measured values."),
]


@app.command("check")
def check(
    report: Report,
    budgets: Budgets = None,
    junit_xml: Annotated[
        Path | None, typer.Option("--junit-xml", help="Write JUnit XML: one testcase per endpoint.")
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Write a Markdown table for a PR comment.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write the report with endpoints[].budget filled."),
    ] = None,
    github_annotations: Annotated[
        bool | None,
        typer.Option(
            "--github-annotations/--no-github-annotations",
            help="Print ::error annotations at each finding's file and line (default: when "
            "GITHUB_ACTIONS=true).",
        ),
    ] = None,
    settings: Settings = None,
) -> None:
    """Judge each endpoint's worst request against its budget; exit 3 when one is over."""
    from perftoolkit.budgets.gate import BudgetOptions

    _run(
        "check",
        BudgetOptions(
            report=report,
            budgets=budgets,
            junit_xml=junit_xml,
            markdown=markdown,
            output=output,
            annotations=github_annotations,
        ),
        settings,
    )


@app.command("record")
def record(
    report: Report, budgets: Budgets = None, headroom: Headroom = None, settings: Settings = None
) -> None:
    """Write budgets from the report's measured values (the file is created when missing;
    comments, order and endpoints the report did not reach are kept)."""
    from perftoolkit.budgets.gate import BudgetOptions

    _run("record", BudgetOptions(report=report, budgets=budgets, headroom=headroom), settings)


@app.command("update")
def update(
    report: Report,
    budgets: Budgets = None,
    headroom: Headroom = None,
    allow_increase: Annotated[
        bool, typer.Option("--allow-increase", help="Also raise budgets the report exceeds.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff, write nothing.")
    ] = False,
    settings: Settings = None,
) -> None:
    """Ratchet: lower every budget the report now beats, add missing endpoints, never raise one
    without --allow-increase; print the diff."""
    from perftoolkit.budgets.gate import BudgetOptions

    _run(
        "update",
        BudgetOptions(
            report=report,
            budgets=budgets,
            headroom=headroom,
            allow_increase=allow_increase,
            dry_run=dry_run,
        ),
        settings,
    )


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

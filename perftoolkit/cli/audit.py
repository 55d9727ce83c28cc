"""`perftoolkit audit`: the same run as `manage.py perf_audit`, from outside the project."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from perftoolkit.exceptions import ConfigurationError


class Server(StrEnum):
    gunicorn = "gunicorn"
    uvicorn = "uvicorn"


class Gate(StrEnum):
    budget = "budget"
    regression = "regression"


def audit(
    profile: Annotated[
        list[str] | None,
        typer.Option(
            "--profile", "-p", help="Locust profile: a name in loadtests/ or a path (repeatable)."
        ),
    ] = None,
    users: Annotated[int, typer.Option(help="Concurrent Locust users.")] = 10,
    spawn_rate: Annotated[float, typer.Option(help="Users started per second.")] = 5.0,
    run_time: Annotated[str, typer.Option(help="How long the load runs: 30s, 2m, 1m30s.")] = "30s",
    workers: Annotated[
        int, typer.Option(help="Locust worker processes (distributed mode); 0 runs one process.")
    ] = 0,
    url: Annotated[
        str | None, typer.Option(help="Audit a server you already run instead of starting one.")
    ] = None,
    record_dir: Annotated[
        Path | None,
        typer.Option(help="With --url: the PERFTOOLKIT_RECORD_DIR that server records into."),
    ] = None,
    server: Annotated[Server, typer.Option(help="gunicorn (WSGI) or uvicorn (ASGI).")] = (
        Server.gunicorn
    ),
    server_workers: Annotated[int, typer.Option(help="Server worker processes.")] = 2,
    out_dir: Annotated[
        Path, typer.Option(help="Where runs are written: <out-dir>/<label>/.")
    ] = Path("reports"),
    label: Annotated[
        str | None, typer.Option(help="Name of the run (default: the profile names).")
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(help="Compare with an earlier run (label, directory or report.json)."),
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option(
            help="p95 rise tolerated by --compare, as a fraction (0.1); judged where both "
            "runs measured the endpoint at least 20 times."
        ),
    ] = None,
    fail_on: Annotated[
        list[Gate] | None, typer.Option(help="Exit 3 when this gate fails (repeatable).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an earlier complete run of this label.")] = (
        False
    ),
    quiet: Annotated[bool, typer.Option(help="No progress or summary; errors only.")] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print report.json to stdout instead of the summary.")
    ] = False,
    settings: Annotated[
        str | None,
        typer.Option(help="The project's settings module (default: DJANGO_SETTINGS_MODULE)."),
    ] = None,
    project_dir: Annotated[
        Path | None,
        typer.Option(help="The directory the settings module imports from (where manage.py is)."),
    ] = None,
) -> None:
    """Run Locust against the project under a real server; write report.json and index.html.

    Exit codes: 0 the run completed (findings never fail it), 1 an error or an interrupted run,
    3 a --fail-on gate failed.
    """
    from perftoolkit.audit.orchestrator import AuditOptions, run_audit_and_report

    _setup_django(settings or os.environ.get("DJANGO_SETTINGS_MODULE"), project_dir)
    options = AuditOptions(
        profiles=tuple(profile or ["smoke"]),
        users=users,
        spawn_rate=spawn_rate,
        run_time=run_time,
        workers=workers,
        url=url,
        record_dir=record_dir,
        server=server.value,
        server_workers=server_workers,
        out_dir=out_dir,
        label=label,
        compare=compare,
        tolerance=tolerance,
        fail_on=tuple(g.value for g in fail_on or ()),
        force=force,
    )
    outcome = run_audit_and_report(options, stdout=sys.stdout, quiet=quiet, json_output=json_output)
    for problem in outcome.problems:
        typer.echo(f"Error: {problem}" if problem == outcome.error else problem, err=True)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


def _setup_django(settings_module: str | None, project_dir: Path | None) -> None:
    """Configure Django for the project under audit (nothing to do for --url without settings)."""
    if not settings_module:
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

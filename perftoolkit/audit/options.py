"""`AuditOptions`: every option of `manage.py perf_audit` and `perftoolkit audit`, declared once.

Both front-ends build their flags from these fields (`perftoolkit.core.options`): the names,
defaults and help texts below are what `--help` shows in either spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from perftoolkit.core.latency import DEFAULT_CONFIDENCE
from perftoolkit.core.options import option

FAIL_ON = ("budget", "regression")
SERVER_KINDS = ("gunicorn", "uvicorn")
# What the live line says while a scaffolded profile's paths are asked.
SCAFFOLD_STEPS = "scaffolding a profile: pages asked"


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """One audit: what to run, against what, where to write it, and which gates fail it."""

    profiles: tuple[str, ...] = option(
        (),
        "Locust profile: a name in loadtests/ or the path of a locustfile (repeatable). "
        "Default: smoke from loadtests/; with no loadtests/ directory, a profile scaffolded "
        "from the URLconf into the run's artifacts.",
        flags=("--profile", "-p"),
    )
    users: int = option(10, "Concurrent Locust users.")
    spawn_rate: float = option(5.0, "Users started per second.")
    run_time: str = option("30s", "How long the load runs: 30s, 2m, 1m30s.")
    workers: int = option(
        0,
        "Locust worker processes (Locust's distributed mode); 0 runs Locust in one process. With "
        "--master-bind: how many workers from other machines the run waits for (default 1).",
    )
    master_bind: str | None = option(
        None,
        "Listen for Locust workers on other machines at HOST:PORT (the master runs here, no "
        "local workers); prints the command that starts a worker with the same profile.",
    )
    url: str | None = option(None, "Audit a server you already run instead of starting one.")
    record_dir: Path | None = option(
        None, "With --url: the PERFTOOLKIT_RECORD_DIR that server records into."
    )
    server: str = option(
        "gunicorn",
        "The server the project runs under: gunicorn (WSGI) or uvicorn (ASGI).",
        choices=SERVER_KINDS,
    )
    server_workers: int = option(2, "Server worker processes.")
    out_dir: Path = option(Path("reports"), "Where runs are written: <out-dir>/<label>/.")
    label: str | None = option(None, "Name of the run (default: the profile names).")
    compare: str | None = option(
        None, "Compare with an earlier run: its label, its directory or its report.json."
    )
    tolerance: float | None = option(
        None,
        "The smallest latency change --compare counts, as a fraction (default 0.1: +10 %).",
    )
    confidence: float = option(
        DEFAULT_CONFIDENCE,
        "Confidence of --compare's latency tests (0.99: a 1 % chance of calling noise a change).",
    )
    max_failure_rate: float = option(
        0.01,
        "Share of failed requests above which the run is incomplete and exits 1 (0.01 = 1 %).",
    )
    fail_on: tuple[str, ...] = option(
        (), "Exit 3 when this gate fails (repeatable).", choices=FAIL_ON
    )
    force: bool = option(False, "Replace an earlier complete run of this label.")
    user: str | None = option(
        None,
        "Who a scaffolded profile logs in as (no --profile and no loadtests/); default: the "
        "first active superuser, else staff user.",
    )
    quiet: bool = option(False, "No progress display or summary; errors only.")
    json_output: bool = option(
        False, "Print report.json to stdout instead of the summary.", flags=("--json",)
    )
    # Not flags: set by the entry point or by tests.
    ready_timeout_s: float = 30.0
    cwd: Path = field(default_factory=Path.cwd)


@dataclass(frozen=True, slots=True)
class ScaffoldOptions:
    """`perf_profile scaffold` / `perftoolkit profile scaffold`: a Locust profile from the URLconf."""

    name: str = option("scaffold", "The profile's name: it is written to loadtests/<name>.py.")
    user: str | None = option(
        None,
        "Log in as this user (its USERNAME_FIELD), the way the project authenticates: a session "
        "cookie, a DRF token or a JWT created for it; default: anonymous requests.",
    )
    writes: bool = option(
        False,
        "Also POST to DRF list routes and PATCH their detail routes, with bodies copied from "
        "existing rows (never DELETE), and keep GET pages that changed or deleted rows when asked.",
    )
    include: tuple[str, ...] = option(
        (), "Only routes matching this regular expression (repeatable)."
    )
    exclude: tuple[str, ...] = option(
        (), "Leave out routes matching this regular expression (repeatable)."
    )
    output: Path | None = option(
        None, "Where to write the profile (default: loadtests/<name>.py).", flags=("--output", "-o")
    )
    force: bool = option(False, "Replace an existing file.")
    # Not flags: set by the entry point or by the audit.
    cwd: Path = field(default_factory=Path.cwd)

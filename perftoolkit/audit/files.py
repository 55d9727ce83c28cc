"""What an audit leaves behind: the AuditRun built from the recording and Locust's numbers, and
its files — `report.json`, `index.html` and, with `--compare`, `<out>/compare/`.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import perftoolkit
from perftoolkit.core.runs.loadstats import LoadStats
from perftoolkit.core.runs.run import AuditRun, build_run, iso_utc
from perftoolkit.exceptions import ReportFormatError
from perftoolkit.middleware.detectors import detection_setup
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.schema import REPORT_FILE, read_run, write_run

if TYPE_CHECKING:
    from perftoolkit.core.runs.compare import Comparison

HTML_FILE = "index.html"
COMPARE_DIR = "compare"


@dataclass(frozen=True, slots=True)
class AuditFiles:
    report: Path
    html: Path
    compare_dir: Path | None = None
    comparison: Comparison | None = None


def build_audit_run(
    *,
    label: str,
    record_dir: Path | None,
    load: LoadStats | None,
    started: float,
    finished: float,
    since: float | None,
    notes: list[str],
    complete: bool,
    environment: Mapping[str, str],
) -> AuditRun | None:
    """Recordings + Locust's statistics → the run (None when neither exists)."""
    detectors, detection = detection_setup()
    run = None
    if record_dir is not None and any(record_dir.glob("*.jsonl")):
        try:
            run = build_report(
                record_dir,
                label=label,
                detectors=detectors,
                options=detection,
                load=load,
                complete=complete,
                notes=notes,
                since=since,
            )
        except ReportFormatError as exc:
            if load is None:
                raise
            # Locust's numbers still make a report; say why the queries are missing.
            notes = [*notes, f"The recording could not be read: {exc}"]
    if run is None and load is not None:
        run = build_run(
            [],
            label=label,
            started_at=started,
            finished_at=finished,
            environment={},
            detectors=[],
            options=detection,
            load=load,
            complete=complete,
            notes=notes,
        )
    if run is None:
        return None
    env = {
        "python": platform.python_version(),
        "perftoolkit": perftoolkit.__version__,
        **run.environment,
        **environment,
    }
    run = run.with_changes(
        started_at=iso_utc(started), finished_at=iso_utc(finished), environment=env
    )
    return apply_budgets(run)


def apply_budgets(run: AuditRun) -> AuditRun:
    """Budget status per endpoint (`endpoints[].budget`) from the project's budget file.

    The run as measured when the project has no perf-budgets.toml; with a note when the file
    cannot be read (`--fail-on budget` refuses such a file before the audit starts).
    """
    from perftoolkit.budgets.gate import judge, project_budgets
    from perftoolkit.exceptions import ConfigurationError

    try:
        budgets = project_budgets()
    except ConfigurationError as exc:
        return run.with_changes(notes=(*run.notes, f"Budgets not judged: {exc}"))
    return run if budgets is None else judge(run, budgets)[0]


def route_resolver() -> Callable[[str], str | None] | None:
    """The project's URLconf as a path → route function, when Django is configured."""
    from django.conf import settings

    if not settings.configured:
        return None
    from perftoolkit.audit.target import resolve_route

    return resolve_route


def load_notes(load: LoadStats | None, *, url: str | None, recorded: bool) -> list[str]:
    """What a reader of the report should know about where its numbers come from."""
    notes = []
    if url and not recorded:
        notes.append(
            f"Latency only: {url} was audited without --record-dir, so the report has no "
            "queries, findings or cache figures, only Locust's numbers."
        )
    if load is None:
        notes.append("Locust left no statistics: latency comes from the middleware's timings.")
    elif load.total.failures:
        notes.append(
            f"{load.total.failures} of {load.total.requests} requests failed "
            "(see load.entries[].failures and artifacts/locust_failures.csv)."
        )
    return notes


def write_audit_files(
    run: AuditRun,
    run_dir: Path,
    *,
    compare_with: Path | None = None,
    tolerance: float | None = None,
) -> AuditFiles:
    """report.json, index.html, and the comparison with `compare_with` (as `before`)."""
    report = write_run(run, run_dir / REPORT_FILE)
    html = write_html(run, run_dir / HTML_FILE)
    if compare_with is None:
        return AuditFiles(report=report, html=html)
    from perftoolkit.reporting.comparing import write_comparison

    compare_dir = run_dir.parent / COMPARE_DIR
    before = read_run(compare_with)
    if tolerance is None:
        comparison = write_comparison(before, run, compare_dir)
    else:
        comparison = write_comparison(before, run, compare_dir, tolerance=tolerance)
    return AuditFiles(report=report, html=html, compare_dir=compare_dir, comparison=comparison)


def write_html(run: AuditRun, path: Path) -> Path:
    """The self-contained HTML report (targets from `PERFTOOLKIT["TARGETS"]` when configured)."""
    from perftoolkit.reporting.html import write_run_html

    return write_run_html(run, path)

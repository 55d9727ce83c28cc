"""What an audit leaves behind: the AuditRun built from the recording and Locust's numbers, and
its files — `report.json`, `index.html` and, with `--compare`, `<out>/compare/`.
"""

from __future__ import annotations

import json
import logging
import platform
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import perftoolkit
from perftoolkit.audit.identity import TIMINGS_DIR
from perftoolkit.core.latency import Histogram
from perftoolkit.core.runs.compare import DEFAULT_CONFIDENCE, DEFAULT_TOLERANCE
from perftoolkit.core.runs.loadstats import LoadStats
from perftoolkit.core.runs.run import AuditRun, build_run, iso_utc
from perftoolkit.exceptions import ReportFormatError
from perftoolkit.middleware.detectors import detection_setup
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.html import HTML_FILE
from perftoolkit.reporting.schema import REPORT_FILE, read_run, write_run

if TYPE_CHECKING:
    from perftoolkit.core.runs.compare import Comparison

logger = logging.getLogger("perftoolkit")
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
    run = attach_active_times(run, record_dir, since=since, resolve=route_resolver())
    return apply_budgets(run)


def attach_active_times(
    run: AuditRun,
    record_dir: Path | None,
    *,
    since: float | None,
    resolve: Callable[[str], str | None] | None,
) -> AuditRun:
    """Each endpoint's `active` histogram from the server's timings (see `identity.py`): every
    request's wall time less its thread's wait for a CPU, its path resolved to the endpoint's
    route. The run as it was when there are none (ASGI, not Linux, `--url`)."""
    directory = record_dir / TIMINGS_DIR if record_dir is not None else None
    if directory is None or resolve is None or not directory.is_dir():
        return run
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    routes: dict[str, str | None] = {}
    for method, path, started, wall, wait in _timing_lines(directory):
        if since is not None and started < since:
            continue
        if path not in routes:
            routes[path] = resolve(path)
        route = routes[path]
        if route is not None:
            times[(method, route)].append(max(0.0, wall - wait))
    return run.with_changes(
        endpoints=tuple(
            replace(e, active=Histogram.of(times[(e.method, e.route)]))
            if times.get((e.method, e.route))
            else e
            for e in run.endpoints
        )
    )


def _timing_lines(directory: Path) -> list[tuple[str, str, float, float, float]]:
    lines = []
    for file in sorted(directory.glob("*.jsonl")):
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            logger.warning(
                "perftoolkit: %s is unreadable (%s); its timings are left out", file, exc
            )
            continue
        for raw in text.splitlines():
            try:
                method, path, started, wall, wait = json.loads(raw)
                lines.append((str(method), str(path), float(started), float(wall), float(wait)))
            except (ValueError, TypeError):
                continue  # a line cut short by a killed worker: the rest still count
    return lines


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


def load_problems(load: LoadStats | None, *, max_failure_rate: float) -> list[str]:
    """Why the load test did not measure what it was asked to (the run is then incomplete):
    more failed requests than `max_failure_rate` allows, or exceptions in Locust's tasks."""
    if load is None:
        return []
    problems = []
    total = load.total
    if total.requests == 0 and total.failures == 0 and not load.exceptions:
        problems.append("Locust sent no request, so nothing was measured.")
    rate = total.failures / total.requests if total.requests else (1.0 if total.failures else 0.0)
    if rate > max_failure_rate:
        problems.append(
            f"{total.failures} of {total.requests} requests failed ({rate * 100:.3g} %), more than "
            f"--max-failure-rate allows ({max_failure_rate * 100:g} %): the figures describe "
            "failures more than the endpoints (see load.entries[].failures and "
            "artifacts/locust_failures.csv)."
        )
    if load.exceptions:
        raised = sum(e.count for e in load.exceptions)
        top = load.exceptions[0]
        where = f" at {top.traceback}" if top.traceback else ""
        kinds = len(load.exceptions)
        problems.append(
            f"Locust's tasks raised {raised} exception{'s' if raised != 1 else ''}"
            f"{f' of {kinds} kinds' if kinds > 1 else ''}, so the load did not run as its "
            f"profile says; the most frequent ({top.count}×): {top.message or '(no message)'}"
            f"{where} (all of them: load.exceptions in report.json, "
            "artifacts/locust_exceptions.csv)."
        )
    return problems


def write_audit_files(
    run: AuditRun,
    run_dir: Path,
    *,
    compare_with: Path | None = None,
    tolerance: float | None = None,
    confidence: float | None = None,
) -> AuditFiles:
    """report.json, index.html, and the comparison with `compare_with` (as `before`)."""
    report = write_run(run, run_dir / REPORT_FILE)
    html = write_html(run, run_dir / HTML_FILE)
    if compare_with is None:
        return AuditFiles(report=report, html=html)
    from perftoolkit.reporting.comparing import write_comparison

    compare_dir = run_dir.parent / COMPARE_DIR
    before = read_run(compare_with)
    comparison = write_comparison(
        before,
        run,
        compare_dir,
        tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance,
        confidence=DEFAULT_CONFIDENCE if confidence is None else confidence,
    )
    return AuditFiles(report=report, html=html, compare_dir=compare_dir, comparison=comparison)


def write_html(run: AuditRun, path: Path) -> Path:
    """The self-contained HTML report (targets from `PERFTOOLKIT["TARGETS"]` when configured)."""
    from perftoolkit.reporting.html import write_run_html

    return write_run_html(run, path)

"""`run_audit()`: the one orchestrator behind `manage.py perf_audit` and `perftoolkit audit`.

Start the project under a real server (or use `--url`), drive it with Locust in its own
processes, then aggregate what the server recorded with Locust's numbers into
`<out>/<label>/report.json` and `index.html`, optionally compared with an earlier run.
A run cut short (Ctrl-C, SIGTERM, a server crash, a Locust failure) still writes what it
collected, marked `complete: false`; every process it started is gone when it returns.
"""

from __future__ import annotations

import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from io import TextIOBase
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, cast

from perftoolkit.audit.files import (
    COMPARE_DIR,
    build_audit_run,
    load_notes,
    load_problems,
    route_resolver,
    write_audit_files,
)
from perftoolkit.audit.locust import (
    RESULTS_PREFIX,
    LocustOptions,
    LocustRun,
    check_locustfile,
    find_locustfile,
    parse_duration,
    profile_dirs,
    require_locust,
)
from perftoolkit.audit.options import FAIL_ON, SCAFFOLD_STEPS, SERVER_KINDS, AuditOptions
from perftoolkit.audit.remote import parse_bind, reachable_url, server_host, workers_wanted
from perftoolkit.audit.servers import ServerOptions, probe, require_server, running_server
from perftoolkit.audit.startup import nothing_collected
from perftoolkit.budgets.gate import project_budgets
from perftoolkit.core.routes import request_route
from perftoolkit.core.runs.loadstats import LoadProgress
from perftoolkit.core.runs.run import AuditRun
from perftoolkit.exceptions import ConfigurationError, LoadTestError, PerfToolkitError
from perftoolkit.reporting.comparing import check_verdict_options
from perftoolkit.reporting.outputs import check_output_dir
from perftoolkit.reporting.schema import REPORT_FILE, read_run

if TYPE_CHECKING:
    from perftoolkit.audit.scaffold import PreparedProfile
    from perftoolkit.audit.target import TargetProject
    from perftoolkit.core.runs.compare import Comparison

ARTIFACTS_DIR = "artifacts"  # logs, Locust's files and the recording, beside the report
DEFAULT_PROFILE = "smoke"  # the profile when none is given and loadtests/ exists
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


@dataclass(frozen=True, slots=True)
class AuditOutcome:
    """What a run left: the run, where its files are, and the exit code it deserves."""

    run: AuditRun | None
    run_dir: Path
    report_path: Path | None
    html_path: Path | None
    compare_dir: Path | None = None
    comparison: Comparison | None = None
    error: str | None = None  # why the run is incomplete or failed (exit 1)
    gates: tuple[str, ...] = ()  # the --fail-on gates that failed (exit 3)

    @property
    def problems(self) -> list[str]:
        """What to tell the user on stderr: the error, then each failed gate."""
        return [*([self.error] if self.error else []), *self.gates]

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return 1
        return 3 if self.gates else 0


class AuditProgress(Protocol):
    """What the audit reports while it runs (the rich display, or nothing with --quiet)."""

    def phase(self, name: str) -> None: ...

    def note(self, text: str) -> None: ...

    def load(self, elapsed_s: float, run_time_s: float, progress: LoadProgress | None) -> None: ...

    def steps(self, name: str, done: int, total: int) -> None: ...


class NullProgress:
    def phase(self, name: str) -> None:
        pass

    def steps(self, name: str, done: int, total: int) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def load(self, elapsed_s: float, run_time_s: float, progress: LoadProgress | None) -> None:
        pass


class NotesOnly(NullProgress):
    """--quiet and --json: no progress, but what the user must act on (start the remote
    workers) or know (the profile was scaffolded) still goes to stderr."""

    def note(self, text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


class AuditInterrupted(BaseException):
    """SIGTERM during a run (Ctrl-C arrives as KeyboardInterrupt); handled like it."""


@dataclass(frozen=True, slots=True)
class _Plan:
    options: AuditOptions
    label: str
    run_dir: Path
    artifacts: Path
    locust: LocustOptions
    target: TargetProject | None
    record_dir: Path | None
    compare_with: Path | None
    scaffold: PreparedProfile | None = None  # written into artifacts/ once they are cleared


def run_audit(options: AuditOptions, progress: AuditProgress | None = None) -> AuditOutcome:
    """Run one audit. Bad options raise PerfToolkitError before anything starts; a run that
    starts always returns an outcome (complete or not) with its report written when anything
    was collected."""
    progress = progress or NullProgress()
    plan = _plan(options, progress)
    created = not plan.run_dir.exists()
    _clear_previous(plan)
    told = _write_scaffold(plan, progress)
    started = time.time()
    error: str | None = None
    locust = LocustRun(plan.locust, host="", workdir=plan.artifacts)
    with _sigterm_interrupts():
        try:
            error = _drive(plan, locust, progress)
        except (KeyboardInterrupt, AuditInterrupted) as exc:
            signame = "SIGTERM" if isinstance(exc, AuditInterrupted) else "Ctrl-C"
            error = f"The run was interrupted ({signame}) after {time.time() - started:.0f} s."
        except LoadTestError as exc:
            error = str(exc)
        finally:
            with _signals_deferred():
                progress.phase("stopping")
                locust.stop()
    finished = time.time()
    progress.phase("building report")
    run, error = _build(plan, locust, started, finished, error, told)
    if run is None:
        raise LoadTestError(nothing_collected(error, plan.run_dir, plan.artifacts, created=created))
    return _write(plan, run, error, progress)


# -- planning -------------------------------------------------------------------------------


def _plan(options: AuditOptions, progress: AuditProgress) -> _Plan:
    for flag, value in (("--users", options.users), ("--server-workers", options.server_workers)):
        if value < 1:
            raise ConfigurationError(f"{flag} must be at least 1, not {value}.")
    if options.spawn_rate <= 0:
        raise ConfigurationError(f"--spawn-rate must be above 0, not {options.spawn_rate:g}.")
    if options.workers < 0:
        raise ConfigurationError(f"--workers must be 0 or more, not {options.workers}.")
    if not 0 <= options.max_failure_rate <= 1:
        raise ConfigurationError(
            f"--max-failure-rate must be a fraction from 0 to 1 (0.01 = 1 %), not "
            f"{options.max_failure_rate:g}."
        )
    if options.compare:
        check_verdict_options(
            0.0 if options.tolerance is None else options.tolerance, options.confidence
        )
    master_bind = parse_bind(options.master_bind) if options.master_bind else None
    if options.server not in SERVER_KINDS:
        raise ConfigurationError(
            f"--server {options.server!r} is not known; use {' or '.join(SERVER_KINDS)}."
        )
    unknown = [g for g in options.fail_on if g not in FAIL_ON]
    if unknown:
        raise ConfigurationError(
            f"--fail-on {unknown[0]!r} is not a gate; use {' or '.join(FAIL_ON)}."
        )
    if "regression" in options.fail_on and not options.compare:
        raise ConfigurationError("--fail-on regression needs --compare <label-or-dir>.")
    if options.record_dir is not None and not options.url:
        raise ConfigurationError(
            "--record-dir names the record directory of a server you run yourself; it goes with "
            "--url. Without --url the audit starts the server and records into its own directory."
        )
    check_output_dir(options.cwd / options.out_dir, "--out-dir")
    target = None if options.url else _target()
    if "budget" in options.fail_on:
        project_budgets(dirs=[options.cwd], required=True)  # missing or malformed: say so now
    dirs = profile_dirs(options.cwd, target.root if target else None)
    scaffolding = False
    if options.profiles:
        files = tuple(find_locustfile(p, dirs) for p in options.profiles)
        for file in files:
            check_locustfile(file)
    elif any(d.is_dir() for d in dirs) or not settings_configured():
        files = (find_locustfile(DEFAULT_PROFILE, dirs),)
        check_locustfile(files[0])
    else:
        from perftoolkit.audit.scaffold import AUDIT_PROFILE

        scaffolding = True  # once everything else is checked: it asks every page (minutes)
        files = (Path(f"{AUDIT_PROFILE}.py"),)  # in artifacts/, once the plan knows where
    label = options.label or "+".join(f.stem for f in files)
    if not _LABEL.fullmatch(label) or label == COMPARE_DIR:
        raise ConfigurationError(
            f"--label {label!r} cannot name a report directory: use letters, digits, '.', '_', "
            f"'+' and '-' (and not {COMPARE_DIR!r}, where comparisons go)."
        )
    run_dir = (options.cwd / options.out_dir / label).resolve()
    artifacts = run_dir / ARTIFACTS_DIR
    if scaffolding:
        files = (artifacts / files[0].name,)
    locust = LocustOptions(
        locustfiles=files,
        users=options.users,
        spawn_rate=options.spawn_rate,
        run_time_s=parse_duration(options.run_time),
        workers=max(options.workers, 1) if master_bind else options.workers,
        master_bind=master_bind,
    )
    record_dir = (
        (options.cwd / options.record_dir).resolve()
        if options.record_dir is not None
        else None
        if options.url
        else artifacts / "recording"
    )
    if options.url and not probe(options.url):
        raise ConfigurationError(
            f"Nothing answers at --url {options.url}. Start your server first (and check the host "
            "and port), or leave out --url to let the audit start the project."
        )
    compare_with = (
        _find_report(options.compare, run_dir.parent, options.cwd) if options.compare else None
    )
    if compare_with is not None and compare_with.parent == run_dir:
        raise ConfigurationError(
            f"--compare {options.compare} is this run's own report; compare with another label."
        )
    _refuse_to_replace(run_dir / REPORT_FILE, force=options.force)
    # What the run needs installed, said before anything (a profile scaffolded, a server started)
    # takes the user's time.
    require_locust()
    if not options.url:
        require_server(options.server)
    prepared = None
    if scaffolding:
        from perftoolkit.audit.scaffold import prepare_for_audit

        prepared = prepare_for_audit(
            options.user,
            options.cwd,
            lambda done, total: progress.steps(SCAFFOLD_STEPS, done, total),
        )
    return _Plan(
        options, label, run_dir, artifacts, locust, target, record_dir, compare_with, prepared
    )


def _write_scaffold(plan: _Plan, progress: AuditProgress) -> list[str]:
    """The scaffolded profile into artifacts/, said now and kept in the report's notes."""
    if plan.scaffold is None:
        return []
    note = plan.scaffold.write_for_audit(plan.locust.locustfiles[0], ARTIFACTS_DIR)
    progress.note(note)
    return [note]


def settings_configured() -> bool:
    from django.conf import settings

    return bool(settings.configured)


def _target() -> TargetProject:
    from django.conf import settings

    if not settings.configured:
        raise ConfigurationError(
            "The audit starts your project, so it needs its settings: run `manage.py perf_audit`, "
            "or pass --settings (or set DJANGO_SETTINGS_MODULE) and --project-dir; to audit a "
            "server you already run, pass --url."
        )
    from perftoolkit.audit.target import describe_target, require_middleware

    target = describe_target()
    require_middleware(target)
    return target


def _find_report(ref: str, out_dir: Path, cwd: Path) -> Path:
    """`--compare` value → a report.json: a file, a run directory, or a label under <out>."""
    given = cwd / ref
    for candidate in (given, given / REPORT_FILE, out_dir / ref / REPORT_FILE):
        if candidate.is_file():
            return candidate.resolve()
    raise ConfigurationError(
        f"--compare {ref}: no report found at {given}, {given / REPORT_FILE} or "
        f"{out_dir / ref / REPORT_FILE}. Run that audit first (e.g. --label {ref}) or give the "
        "path of its report.json."
    )


def _refuse_to_replace(report: Path, *, force: bool) -> None:
    """Refuse to replace a complete report without --force."""
    if report.is_file() and not force:
        try:
            previous = read_run(report)
        except PerfToolkitError:
            previous = None
        if previous is not None and previous.complete:
            raise ConfigurationError(
                f"{report} already holds a complete run ({previous.finished_at}). Pass --force "
                "to replace it, or choose another --label."
            )


def _clear_previous(plan: _Plan) -> None:
    """Refuse to replace a complete report without --force (checked again: a run may have
    finished since the plan); clear the run directory otherwise."""
    _refuse_to_replace(plan.run_dir / REPORT_FILE, force=plan.options.force)
    if plan.artifacts.exists():
        shutil.rmtree(plan.artifacts)
    plan.artifacts.mkdir(parents=True)


# -- the run --------------------------------------------------------------------------------


def _drive(plan: _Plan, locust: LocustRun, progress: AuditProgress) -> str | None:
    """Server up, Locust through; returns why the run is incomplete, or None."""
    with ExitStack() as stack:
        server_child = None
        if plan.target is not None:
            progress.phase(f"starting {plan.options.server}")
            assert plan.record_dir is not None
            server = stack.enter_context(
                running_server(
                    plan.target,
                    ServerOptions(
                        kind=plan.options.server,
                        workers=plan.options.server_workers,
                        ready_timeout_s=plan.options.ready_timeout_s,
                        host=server_host(plan.locust),
                    ),
                    record_dir=plan.record_dir,
                    log_path=plan.artifacts / "server.log",
                )
            )
            host, server_child = reachable_url(plan.locust, server.url), server.child
        else:
            host = str(plan.options.url).rstrip("/")
        locust.host = host
        # Registered after the server, so it runs first: Locust stops before the server does.
        stack.callback(_stop_quietly, locust)
        progress.phase("load test")
        locust.start()
        if plan.locust.master_bind is not None:
            progress.note(workers_wanted(plan.locust))
        return _watch(locust, server_child, progress)


def _watch(locust: LocustRun, server: Any, progress: AuditProgress) -> str | None:
    start = time.monotonic()
    run_time = float(locust.options.run_time_s)
    while True:
        code = locust.wait(0.5)
        elapsed = time.monotonic() - start
        progress.load(elapsed, run_time, locust.progress())
        if code is not None:
            break
        if server is not None and not server.running:
            raise LoadTestError(
                f"The server exited (code {server.poll()}) during the load test. "
                f"The end of its log ({server.log_path.name}):\n{server.tail()}"
            )
        if elapsed > locust.deadline_s:
            raise LoadTestError(
                f"Locust was still running {elapsed:.0f} s after a {run_time:.0f} s run; stopped it. "
                f"{locust.failure()}"
            )
    if not (locust.workdir / f"{RESULTS_PREFIX}.json").is_file():
        raise LoadTestError(locust.failure())
    return None


def _stop_quietly(locust: LocustRun) -> None:
    with _signals_deferred():
        locust.stop()


# -- the report -----------------------------------------------------------------------------


def _build(
    plan: _Plan,
    locust: LocustRun,
    started: float,
    finished: float,
    error: str | None,
    told: list[str],
) -> tuple[AuditRun | None, str | None]:
    """The run, and why it is incomplete: the error that cut it short, or what its load test
    says it did not measure (failures over --max-failure-rate, exceptions in Locust's tasks)."""
    resolve = route_resolver()
    load = locust.stats(lambda name: request_route(name, resolve))
    if error is None:
        problems = load_problems(load, max_failure_rate=plan.options.max_failure_rate)
        error = " ".join(problems) if problems else None
    notes = [*told, *load_notes(load, url=plan.options.url, recorded=plan.record_dir is not None)]
    server = (
        f"{plan.options.server} ({plan.options.server_workers} workers)"
        if plan.target
        else f"external ({plan.options.url})"
    )
    workers = f", {plan.locust.workers} workers" if plan.locust.workers else ""
    run = build_audit_run(
        label=plan.label,
        record_dir=plan.record_dir,
        load=load,
        started=started,
        finished=finished,
        # Only what Locust sent: not the readiness probe, nor what a --url server served before.
        since=locust.started_at or started,
        notes=notes,
        complete=error is None,
        environment={"server": server, "load": f"locust, {plan.locust.users} users{workers}"},
    )
    if run is not None and error is None and run.unmeasured_requests:
        measured = sum(e.requests for e in run.endpoints if e.queries_max is not None)
        error = (
            f"{run.unmeasured_requests} of {run.unmeasured_requests + measured} recorded "
            "requests were not measured: perftoolkit's own capture failed on them (the report's "
            "notes say where; the server log has the traceback)."
        )
        run = run.with_changes(complete=False)
    if run is not None and error is not None:
        run = run.with_changes(incomplete_reason=error.split("\n", 1)[0])
    return run, error


def _write(plan: _Plan, run: AuditRun, error: str | None, progress: AuditProgress) -> AuditOutcome:
    progress.phase("writing report")
    files = write_audit_files(
        run,
        plan.run_dir,
        compare_with=plan.compare_with if error is None else None,
        tolerance=plan.options.tolerance,
        confidence=plan.options.confidence,
    )
    gates = []
    if error is None and "budget" in plan.options.fail_on:
        broken = [e.key for e in run.endpoints if e.budget.status == "exceeded"]
        if broken:
            gates.append(f"Budget exceeded on {', '.join(broken)}.")
    if error is None and "regression" in plan.options.fail_on and files.comparison is not None:
        regressed = [
            f"{e.method} {e.route} ({'; '.join(e.regressions)})"
            for e in files.comparison.regressions
        ]
        if regressed:
            gates.append(f"Regressed against {plan.options.compare}: {', '.join(regressed)}.")
    progress.phase("done")
    return AuditOutcome(
        run=run,
        run_dir=plan.run_dir,
        report_path=files.report,
        html_path=files.html,
        compare_dir=files.compare_dir,
        comparison=files.comparison,
        error=error,
        gates=tuple(gates),
    )


# -- signals --------------------------------------------------------------------------------


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises AuditInterrupted and SIGINT KeyboardInterrupt in the main thread, so both
    end the run the same way. SIGINT is set explicitly: a process started in the background of
    a script inherits it ignored, and CI runners cancel jobs with it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise AuditInterrupted()

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt()

    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, terminate),
        signal.SIGINT: signal.signal(signal.SIGINT, interrupt),
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Cleanup must finish: a Ctrl-C or SIGTERM during it does not leave processes behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def remember(signum: int, frame: object) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, remember) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # A signal that arrived meanwhile is dropped: the run is already being wound up.


# -- for the entry points -------------------------------------------------------------------


def run_audit_and_report(options: AuditOptions, *, stdout: IO[str] | TextIOBase) -> AuditOutcome:
    """What `perf_audit` and `perftoolkit audit` do: run with a live display, then show the
    summary (or, with --json, print report.json). The entry point shows `outcome.problems` and
    exits with `outcome.exit_code`; errors before the run raise PerfToolkitError."""
    from perftoolkit.reporting.console import (
        AuditDisplay,
        log_width,
        make_console,
        render_audit_summary,
    )
    from perftoolkit.reporting.schema import dumps, run_to_dict

    # Off a terminal (CI logs, make demo) rich would wrap at 80 columns; the table needs more.
    out = make_console(cast(IO[str], stdout), width=log_width(cast(IO[str], stdout)))
    quiet, json_output = options.quiet, options.json_output
    if quiet or json_output:
        outcome = run_audit(options, NotesOnly())
    else:
        with AuditDisplay(out) as display:
            outcome = run_audit(options, display)
    assert outcome.run is not None
    if json_output:
        stdout.write(dumps(run_to_dict(outcome.run, location=outcome.report_path)))
    elif quiet:
        # One line whatever its length: what a script reads (rich would fold a long path).
        stdout.write(_shown(outcome.html_path or outcome.run_dir, options.cwd) + "\n")
    else:
        files = [("report", outcome.report_path), ("html", outcome.html_path)]
        if outcome.compare_dir is not None:
            files.append(("compare", outcome.compare_dir / "index.html"))
        shown = [(name, _shown(path, options.cwd)) for name, path in files if path is not None]
        render_audit_summary(outcome.run, out, files=shown)
    return outcome


def _shown(path: Path, cwd: Path) -> str:
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)

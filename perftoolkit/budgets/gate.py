"""The budget gate: `check`, `record` and `update` of a report against `perf-budgets.toml`.

The one implementation behind `perftoolkit budget …`, `manage.py perf_budget …` and the pytest
plugin. Entry points parse their options into `BudgetOptions` and call `run_budget_command()`,
which prints its result and raises `QueryBudgetExceeded` (exit 3) when an endpoint is over
budget, or another `PerfToolkitError` (exit 1) for bad input.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from perftoolkit.budgets import (
    display_path,
    find_budget_file,
    load_budgets,
    search_dirs,
    write_budgets,
)
from perftoolkit.budgets.querycount import querycount_fallback, querycount_high, querycount_hint
from perftoolkit.core.budgets.ratchet import BudgetUpdate, Headroom, record, update
from perftoolkit.core.budgets.rules import BudgetResult, Budgets, apply_budgets, evaluate
from perftoolkit.core.options import REQUIRED, option
from perftoolkit.core.runs.run import AuditRun
from perftoolkit.exceptions import ConfigurationError, QueryBudgetExceeded, UnmeasuredRequests
from perftoolkit.reporting.github import budget_annotations
from perftoolkit.reporting.junit import budget_result_to_junit
from perftoolkit.reporting.markdown import budget_result_to_markdown
from perftoolkit.reporting.outputs import check_output_file
from perftoolkit.reporting.schema import read_run, write_run

ACTIONS = ("check", "record", "update")
# Wide enough that CI logs keep each table row on one line.
LOG_WIDTH = 200


@dataclass(frozen=True, slots=True)
class BudgetOptions:
    """Everything `check`, `record` and `update` accept, whichever entry point parsed it:
    `perftoolkit budget …` and `manage.py perf_budget …` build their flags from these fields."""

    report: Path = option(REQUIRED, "The report.json to judge (perftoolkit.audit/1).")
    budgets: Path | None = option(
        None,
        "The budget file (default: perf-budgets.toml in the working directory, or where "
        "[tool.perftoolkit] budgets in pyproject.toml points, or settings.BASE_DIR).",
    )
    headroom: str | None = option(
        None,
        "Add N queries (`2`) or N percent (`20%`) to measured values.",
        commands=("record", "update"),
    )
    allow_increase: bool = option(
        False, "Also raise budgets the report exceeds.", commands=("update",)
    )
    dry_run: bool = option(False, "Print the diff, write nothing.", commands=("update",))
    junit_xml: Path | None = option(
        None, "Write JUnit XML: one testcase per endpoint.", commands=("check",)
    )
    markdown: Path | None = option(
        None, "Write a Markdown table for a PR comment.", commands=("check",)
    )
    output: Path | None = option(
        None,
        "Write the report with endpoints[].budget filled.",
        flags=("--output", "-o"),
        commands=("check",),
    )
    annotations: bool | None = option(
        None,
        "Print ::error annotations at each finding's file and line (default: when "
        "GITHUB_ACTIONS=true).",
        flags=("--github-annotations",),
        negatable=True,
        commands=("check",),
    )


def project_budgets(*, dirs: Sequence[Path] = (), required: bool = False) -> Budgets | None:
    """The project's budget file, read (routes checked when Django is configured), searched as
    `find_budget_file` does with `dirs` after the working directory; None when there is none and
    none is `required` (a `ConfigurationError` then, as for a malformed file)."""
    from perftoolkit.urlconf import configured_routes

    searched = search_dirs(dirs)
    path = find_budget_file(dirs=searched, must_exist=False)
    if not path.is_file():
        fallback = querycount_fallback(path, searched)
        if fallback is None and required:
            find_budget_file(dirs=searched)  # raises, saying where it looked
        return fallback
    return load_budgets(path, routes=configured_routes())


def judge(run: AuditRun, budgets: Budgets) -> tuple[AuditRun, BudgetResult]:
    """Evaluate a run against budgets; the run comes back with its budget fields filled."""
    result = evaluate(run, budgets)
    return apply_budgets(run, result), result


def run_budget_command(
    action: str,
    options: BudgetOptions,
    *,
    stdout: TextIO,
    routes: Collection[str] | None = None,
    roots: Sequence[Path] = (),
) -> None:
    """Run one action and print its result to `stdout`; raise `QueryBudgetExceeded` after
    printing when `check` finds an endpoint over budget.

    `routes` (the URLconf's, normalised) turns on the stale-route check of the budget file;
    `roots` are the directories findings' file paths may be relative to (settings.BASE_DIR).
    """
    if action not in ACTIONS:
        raise ConfigurationError(
            f"Unknown budget action {action!r}; use one of {', '.join(ACTIONS)}."
        )
    for path, flag, example in (
        (options.junit_xml, "--junit-xml", "budgets.xml"),
        (options.markdown, "--markdown", "budgets.md"),
        (options.output, "--output", "report.json"),
    ):
        if path is not None:
            check_output_file(path, flag, example)
    try:
        from perftoolkit.reporting.console import (
            make_console,
            render_budget_result,
            render_budget_update,
        )
    except ImportError as exc:  # rich comes with the `cli` extra
        raise ConfigurationError(
            f"The budget commands print with {exc.name}: pip install 'perftoolkit[cli,sql]'."
        ) from None
    console = make_console(stdout, width=None if stdout.isatty() else LOG_WIDTH)
    if action == "check":
        path, budgets = _budgets_to_check(options.budgets, routes, stdout)
        run, result = judge(read_run(options.report), budgets)
        _write_outputs(run, result, options)
        render_budget_result(result, console)
        if _annotate(options.annotations):
            file_roots = [*roots, path.parent]
            for command in budget_annotations(
                result,
                path_for=lambda file: github_path(file, file_roots),
                budget_file=github_path(str(path), []),
            ):
                stdout.write(command + "\n")
        if result.failed:
            raise QueryBudgetExceeded(_failure_summary(result))
        if run.unmeasured_requests:
            raise UnmeasuredRequests(unmeasured_message(run, "judged"))
        return
    headroom = _headroom(options.headroom)
    path = find_budget_file(options.budgets, must_exist=action == "update")
    run = read_run(options.report)
    changes = rewrite_budgets(
        action,
        run,
        path,
        headroom=headroom,
        allow_increase=options.allow_increase,
        routes=routes,
        write=not options.dry_run,
    )
    render_budget_update(changes, console, path=display_path(path), wrote=not options.dry_run)
    held = _held_by_findings(changes, run)
    if held:
        console.print(held)


# Findings whose fix removes queries a budget would otherwise keep allowing.
_WASTE = ("n_plus_one", "duplicate_query")


def _held_by_findings(changes: BudgetUpdate, run: AuditRun) -> str:
    """A note when budgets just written allow queries the run's findings say are waste: a budget
    recorded from an N+1 keeps the N+1 passing until it is fixed and the budget updated."""
    written = {(c.method, c.route) for c in changes.changes if c.kind in ("added", "raised")}
    counts: dict[str, int] = {}
    for finding in run.findings:
        if finding.kind in _WASTE and (finding.method, finding.route) in written:
            key = f"{finding.method} {finding.route}"
            counts[key] = counts.get(key, 0) + finding.repeats
    if not counts:
        return ""
    shown = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    listed = ", ".join(f"{key} ({n} a request)" for key, n in shown[:3])
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    which = "one of these budgets allows" if len(shown) == 1 else f"{len(shown)} of them allow"
    return (
        f"Note: {which} queries that the report's N+1 and duplicate findings would remove: "
        f"{listed}{more}. Fix those, then run `update` to lower the budgets."
    )


def _budgets_to_check(
    explicit: Path | None, routes: Collection[str] | None, stdout: TextIO
) -> tuple[Path, Budgets]:
    """The budget file, or (none existing and none named) django-querycount's threshold as the
    defaults, with a line saying so."""
    searched = search_dirs()
    path = find_budget_file(explicit, dirs=searched, must_exist=False)
    if explicit is None:
        fallback, high = querycount_fallback(path, searched), querycount_high()
        if fallback is not None and high is not None:
            stdout.write(querycount_hint(high) + "\n")
            return path, fallback
    path = find_budget_file(explicit, dirs=searched)
    return path, load_budgets(path, routes=routes)


def unmeasured_message(run: AuditRun, action: str) -> str:
    """Why budgets are not judged or written from a run with requests perftoolkit did not
    measure (their query counts are unknown, not zero)."""
    n = run.unmeasured_requests
    return (
        f"{n} request{'s' if n != 1 else ''} of this run {'were' if n != 1 else 'was'} not "
        "measured: perftoolkit's own capture failed on them (the server's log has an ERROR "
        "'perftoolkit: internal error in <place>' line with the traceback; the report's notes "
        f"name the endpoints). {_NOT_FROM_PARTIAL[action]}: fix or report that failure, then "
        "record the requests again."
    )


_NOT_FROM_PARTIAL = {
    "judged": "The check above judged the measured requests only, so it cannot pass",
    "written": "Budgets are not written from a partial measurement",
}


def _failure_summary(result: BudgetResult) -> str:
    failed, judged = result.failed, len(result.judged)
    return (
        f"{len(failed)} of {judged} budgeted endpoint{'s' if judged != 1 else ''} over budget "
        f"({result.source}): {', '.join(row.key for row in failed)}."
    )


def rewrite_budgets(
    action: str,
    run: AuditRun,
    path: Path,
    *,
    headroom: Headroom,
    allow_increase: bool = False,
    routes: Collection[str] | None = None,
    write: bool = True,
) -> BudgetUpdate:
    """`record` (measured values, created when missing) or `update` (the ratchet) into `path`."""
    if run.unmeasured_requests:
        raise UnmeasuredRequests(unmeasured_message(run, "written"))
    existing = load_budgets(path, routes=routes) if path.exists() else None
    if action == "record":
        changes = record(run, existing, headroom=headroom)
    elif existing is None:
        raise ConfigurationError(
            f"{display_path(path)} does not exist, so there is nothing to update. "
            "Write it first with `perftoolkit budget record --report report.json`."
        )
    else:
        changes = update(run, existing, headroom=headroom, allow_increase=allow_increase)
    if write:
        write_budgets(path, changes.budgets, routes=routes)
    return changes


def _headroom(text: str | None) -> Headroom:
    try:
        return Headroom.parse(text)
    except ValueError as exc:
        raise ConfigurationError(f"--headroom: {exc}.") from None


def _annotate(flag: bool | None) -> bool:
    return flag if flag is not None else os.environ.get("GITHUB_ACTIONS") == "true"


def _write_outputs(run: AuditRun, result: BudgetResult, options: BudgetOptions) -> None:
    for target, text in (
        (options.junit_xml, budget_result_to_junit),
        (options.markdown, budget_result_to_markdown),
    ):
        if target is not None:
            _write_text(target, text(result))
    if options.output is not None:
        write_run(run, options.output)


def _write_text(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path} cannot be written: {exc.strerror or exc}.") from None


def github_path(file: str, roots: Sequence[Path]) -> str:
    """A finding's project-relative file as GitHub knows it: relative to $GITHUB_WORKSPACE (else
    the working directory), trying each root the file may be relative to."""
    workspace = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()
    candidates = [Path(file)] if Path(file).is_absolute() else [r / file for r in roots]
    candidates.append(Path(file))
    for candidate in candidates:
        if candidate.exists():
            try:
                return candidate.resolve().relative_to(workspace).as_posix()
            except ValueError:
                return candidate.resolve().as_posix()
    return Path(file).as_posix()

"""The pytest plugin (entry point `perftoolkit`): query budgets for tests.

- fixture `query_budget`: `with query_budget(4): client.get(...)` fails the test when the block
  runs more queries, listing them grouped by statement with where they ran, and the fixes;
- marker `@pytest.mark.query_budget(4)`: the same for a whole test body; either fails, saying
  so, when perftoolkit's own capture failed during it (the count is unknown, never judged);
- `--perf-budgets` (`--perf-budgets-file PATH`): every request the session makes through Django's
  test client (or DRF's APIClient) is recorded by perftoolkit's middleware; at the end each
  endpoint's worst request is judged against the budget file and reported as a test item
  (`perf-budgets.toml::GET api/courses/`), so `-x`, `--junitxml` and the exit status treat an
  endpoint over budget like a failed test. Under pytest-xdist the workers send their recordings
  to the controller, which judges once. `--perf-report PATH` writes the session's report.json;
  `--perf-record` writes the budget file from what was measured instead of judging.

Importing this module imports neither Django nor the rest of perftoolkit, and none of its hooks
does anything unless asked: sessions that do not use it, and projects without Django settings,
are unaffected.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from perftoolkit.core.budgets.rules import BudgetResult, BudgetRow, Budgets
    from perftoolkit.core.runs.run import AuditRun
    from perftoolkit.middleware.capture.capture import QueryCapture

MIDDLEWARE = "perftoolkit.middleware.QueryBudgetMiddleware"
WORKER_KEY = "perftoolkit_recording"
_PLUGIN_NAME = "perftoolkit-budget-session"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("perftoolkit", "perftoolkit query budgets")
    group.addoption(
        "--perf-budgets",
        action="store_true",
        help="Record every request made through the Django test client and judge each "
        "endpoint's worst request against perf-budgets.toml at the end of the session.",
    )
    group.addoption(
        "--perf-budgets-file",
        metavar="PATH",
        help="The budget file (default: perf-budgets.toml in the working directory, the "
        "rootdir or settings.BASE_DIR, or [tool.perftoolkit] budgets in pyproject.toml).",
    )
    group.addoption(
        "--perf-report",
        metavar="PATH",
        help="Write the session's requests as a perftoolkit report.json.",
    )
    group.addoption(
        "--perf-record",
        action="store_true",
        help="Write the budget file from what the session measured (created when missing; "
        "comments kept) instead of judging it.",
    )
    group.addoption(
        "--perf-headroom",
        metavar="N|N%",
        help="With --perf-record: add N queries (or N%%) to each measured value.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "query_budget(queries, *, duplicates=None): fail the test when its body runs more "
        "database queries than this (perftoolkit).",
    )
    option = config.option
    if option.perf_budgets or option.perf_record or option.perf_report:
        config.pluginmanager.register(BudgetSession(config), _PLUGIN_NAME)


@pytest.fixture
def query_budget(
    request: pytest.FixtureRequest,
) -> Callable[..., AbstractContextManager[QueryCapture]]:
    """`with query_budget(4): client.get(...)`: fail when the block runs more than 4 queries
    (`duplicates=0` also limits exact duplicate statements), and with `CaptureFailed` when
    perftoolkit's own capture failed during the block (never a pass on a partial count)."""
    verbose = request.config.get_verbosity() > 0

    def budget(
        queries: int, *, duplicates: int | None = None
    ) -> AbstractContextManager[QueryCapture]:
        _require_django("the query_budget fixture")
        from perftoolkit.budgets.block import query_budget as block

        return block(queries, duplicates=duplicates, verbose=verbose)

    return budget


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    marker = item.get_closest_marker("query_budget")
    if marker is None:
        return (yield)
    _require_django("@pytest.mark.query_budget")
    from perftoolkit.budgets.block import query_budget as block
    from perftoolkit.exceptions import CaptureFailed, QueryBudgetExceeded

    queries, duplicates = _marker_limits(marker, item.nodeid)
    try:
        with block(
            queries,
            duplicates=duplicates,
            what=item.nodeid,
            verbose=item.config.get_verbosity() > 0,
        ):
            return (yield)
    except (QueryBudgetExceeded, CaptureFailed) as exc:
        message = f"{type(exc).__name__}: {exc}"
    # Raised after the test body returned, its traceback would only show this hook: the message
    # is the whole story.
    pytest.fail(message, pytrace=False)


def _marker_limits(marker: pytest.Mark, nodeid: str) -> tuple[int, int | None]:
    queries = marker.args[0] if marker.args else marker.kwargs.get("queries")
    if queries is None:
        raise pytest.UsageError(
            f"{nodeid}: @pytest.mark.query_budget needs the number of queries, e.g. "
            "@pytest.mark.query_budget(4)."
        )
    return queries, marker.kwargs.get("duplicates")


def _middleware_installed(middleware: list[str]) -> bool:
    """perftoolkit's middleware, or a subclass of it, is in MIDDLEWARE."""
    from perftoolkit.conf import middleware_installed

    return middleware_installed(MIDDLEWARE, middleware)


def _require_django(what: str) -> None:
    from django.conf import settings

    if not settings.configured:
        pytest.fail(
            f"{what} needs Django settings: set DJANGO_SETTINGS_MODULE (or pytest-django's --ds "
            "/ DJANGO_SETTINGS_MODULE ini option).",
            pytrace=False,
        )


class BudgetSession:
    """--perf-budgets / --perf-record / --perf-report: record the session, judge it at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.worker = hasattr(config, "workerinput")
        self.record_dir = Path(tempfile.mkdtemp(prefix="perftoolkit-session-"))
        self.budget_file: Path | None = None
        self.budgets: Budgets | None = None
        self.routes: frozenset[str] | None = None
        self.summary: list[str] = []
        self.expected_items = 0
        self._previous_env = os.environ.get("PERFTOOLKIT_RECORD_DIR")

    # -- start: check the project can be recorded, read the budgets ------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from django.conf import settings

        from perftoolkit.conf import RECORD_DIR_ENV, reset_settings

        if not settings.configured:
            raise pytest.UsageError(
                "--perf-budgets records requests through Django's test client, but no Django "
                "settings are configured: set DJANGO_SETTINGS_MODULE, or pytest-django's --ds "
                "option or DJANGO_SETTINGS_MODULE ini key."
            )
        if not _middleware_installed(list(getattr(settings, "MIDDLEWARE", None) or [])):
            raise pytest.UsageError(
                f"--perf-budgets records requests with perftoolkit's middleware, which is not in "
                f"MIDDLEWARE of {settings.SETTINGS_MODULE or 'your settings'}. Add "
                f'"{MIDDLEWARE}" as the first entry of MIDDLEWARE (and "perftoolkit" to '
                "INSTALLED_APPS)."
            )
        os.environ[RECORD_DIR_ENV] = str(self.record_dir)
        reset_settings()
        if not self.worker:
            self._load_budgets()

    def _load_budgets(self) -> None:
        from perftoolkit.budgets import find_budget_file, load_budgets, search_dirs
        from perftoolkit.exceptions import PerfToolkitError
        from perftoolkit.urlconf import configured_routes

        option = self.config.option
        recording = bool(option.perf_record)
        if not (option.perf_budgets or recording):
            return
        try:
            self.routes = configured_routes()
            searched = search_dirs([self.config.rootpath])
            self.budget_file = find_budget_file(
                option.perf_budgets_file, dirs=searched, must_exist=False
            )
            if self.budget_file.exists():
                self.budgets = load_budgets(self.budget_file, routes=self.routes)
            elif not recording:
                self.budgets = self._querycount_budgets(searched)
            if recording:
                from perftoolkit.core.budgets.ratchet import Headroom

                Headroom.parse(option.perf_headroom)
        except (PerfToolkitError, ValueError) as exc:
            raise pytest.UsageError(f"perftoolkit: {exc}") from None

    def _querycount_budgets(self, searched: list[Path]) -> Budgets:
        """No budget file: django-querycount's threshold, said in the summary; else the error
        saying where the file was looked for."""
        from perftoolkit.budgets import find_budget_file
        from perftoolkit.budgets.querycount import (
            querycount_fallback,
            querycount_high,
            querycount_hint,
        )

        assert self.budget_file is not None
        option = self.config.option
        fallback = querycount_fallback(self.budget_file, searched)
        high = querycount_high()
        if option.perf_budgets_file is not None or fallback is None or high is None:
            find_budget_file(option.perf_budgets_file, dirs=searched)  # raises, saying where
            raise AssertionError("unreachable: the budget file does not exist")
        self.summary.append(f"perftoolkit: {querycount_hint(high)}")
        return fallback

    # -- xdist: workers hand their recordings to the controller ----------------------------------

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.worker:
            from perftoolkit.middleware.recorder import flush_recorders

            flush_recorders()  # lines held with RECORD_BUFFER
            self.config.workeroutput[WORKER_KEY] = {  # type: ignore[attr-defined]
                name: path.read_text(encoding="utf-8") for name, path in self._recording_files()
            }

    def _recording_files(self) -> Iterator[tuple[str, Path]]:
        for path in sorted(self.record_dir.glob("*.jsonl")):
            yield path.name, path
        environment = self.record_dir / "environment.json"
        if environment.exists():
            yield environment.name, environment

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        files = getattr(node, "workeroutput", {}).get(WORKER_KEY) or {}
        worker = str(getattr(node, "gateway", None) and node.gateway.id or "worker")
        for name, text in files.items():
            if name == "environment.json":
                target = self.record_dir / name
                if not target.exists():  # every worker describes the same environment
                    target.write_text(text, encoding="utf-8")
                continue
            with (self.record_dir / f"{worker}-{Path(name).name}").open(
                "a", encoding="utf-8"
            ) as handle:
                handle.write(text)

    # -- end: build the run, judge it, report ----------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        # Count the budget items up front so the progress percentage ends at 100% (xdist's
        # controller counts what its workers collected and would overwrite this).
        if self.budgets is not None and not self.config.pluginmanager.hasplugin("dsession"):
            self.expected_items = len(self.budgets.endpoints)
            session.testscollected += self.expected_items
        result = yield
        if not self.worker and not self.config.option.collectonly:
            self._finish(session)
        return result

    def _finish(self, session: pytest.Session) -> None:
        from perftoolkit.exceptions import PerfToolkitError

        run = self._build_run()
        if run is None:
            self.summary.append(
                "perftoolkit: no request went through perftoolkit's middleware in this session; "
                "nothing to judge (requests made with Django's test client are recorded)."
            )
            return
        option = self.config.option
        try:
            if option.perf_record:
                self._record(run)
            elif option.perf_budgets and self.budgets is not None:
                run, result = self._judge(run, self.budgets)
                self._report(session, result)
                if run.unmeasured_requests:
                    from perftoolkit.budgets.gate import unmeasured_message

                    self.summary.append(f"perftoolkit: {unmeasured_message(run, 'judged')}")
                    session.testsfailed += 1
            if option.perf_report:
                from perftoolkit.reporting.schema import write_run

                write_run(run, option.perf_report)
                self.summary.append(f"perftoolkit: wrote {option.perf_report}")
        except PerfToolkitError as exc:
            raise pytest.UsageError(f"perftoolkit: {exc}") from None

    def _build_run(self) -> AuditRun | None:
        from perftoolkit.middleware.detectors import detection_options, detectors
        from perftoolkit.middleware.recording import build_report

        if not any(self.record_dir.glob("*.jsonl")):
            return None
        return build_report(
            self.record_dir, label="pytest", detectors=detectors(), options=detection_options()
        )

    def _record(self, run: AuditRun) -> None:
        from perftoolkit.budgets import display_path
        from perftoolkit.budgets.gate import rewrite_budgets
        from perftoolkit.core.budgets.ratchet import Headroom

        assert self.budget_file is not None
        changes = rewrite_budgets(
            "record",
            run,
            self.budget_file,
            headroom=Headroom.parse(self.config.option.perf_headroom),
            routes=self.routes,
        )
        counts = {
            kind: sum(c.kind == kind for c in changes.changes)
            for kind in ("added", "lowered", "raised")
        }
        detail = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "no change"
        self.summary.append(
            f"perftoolkit: recorded {len(changes.budgets.endpoints)} endpoint budgets in "
            f"{display_path(self.budget_file)} ({detail})"
        )

    def _judge(self, run: AuditRun, budgets: Budgets) -> tuple[AuditRun, BudgetResult]:
        from perftoolkit.budgets.gate import judge

        return judge(run, budgets)

    def _report(self, session: pytest.Session, result: BudgetResult) -> None:
        """One test item per budgeted endpoint, logged like any test's reports."""
        rows = result.judged
        session.testscollected += len(rows) - self.expected_items
        for row in rows:
            if session.shouldfail or session.shouldstop:
                break
            self._log_item(row, result.source)
        failed = len(result.failed)
        self.summary.append(
            f"perftoolkit: {len(rows)} endpoints judged against {result.source}, {failed} over budget"
            + (
                f"; not exercised: {', '.join(b.key for b in result.not_exercised)}"
                if result.not_exercised
                else ""
            )
        )

    def _log_item(self, row: BudgetRow, source: str) -> None:
        from perftoolkit.reporting.budget_text import row_details

        hook = self.config.hook
        path = self._nodeid_path()
        nodeid = f"{path}::{row.key}"
        location = (path, (row.line or 1) - 1, row.key)
        hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        for when in ("setup", "call", "teardown"):
            failed = when == "call" and row.status == "exceeded"
            longrepr: Any = (
                _BudgetRepr(row_details(row, source), path, row.line or 1, row) if failed else None
            )
            report = pytest.TestReport(
                nodeid,
                location,
                {row.key: 1, "perf_budget": 1},
                "failed" if failed else "passed",
                longrepr,
                when,
            )
            hook.pytest_runtest_logreport(report=report)
        hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)

    def _nodeid_path(self) -> str:
        assert self.budget_file is not None
        try:
            return self.budget_file.resolve().relative_to(self.config.rootpath).as_posix()
        except ValueError:
            return self.budget_file.name

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in self.summary:
            terminalreporter.write_line(line)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        from perftoolkit.conf import RECORD_DIR_ENV, reset_settings

        if self._previous_env is None:
            os.environ.pop(RECORD_DIR_ENV, None)
        else:
            os.environ[RECORD_DIR_ENV] = self._previous_env
        reset_settings()
        shutil.rmtree(self.record_dir, ignore_errors=True)


@dataclass(frozen=True)
class _Crash:
    path: str
    lineno: int
    message: str


class _BudgetRepr:
    """A failure's text, plus the one-line message (`reprcrash`) that pytest's short summary
    and JUnit XML show."""

    def __init__(self, text: str, path: str, line: int, row: BudgetRow) -> None:
        from perftoolkit.core.budgets.rules import describe_row

        self.text = text
        self.reprcrash = _Crash(path, line, describe_row(row))

    def toterminal(self, out: Any) -> None:
        for line in self.text.splitlines():
            out.line(line)

    def __str__(self) -> str:
        return self.text

"""`run_fix()`: the one implementation behind `manage.py perf_fix` and `perftoolkit fix`.

For each N+1 finding with an exact fix (then each lazy-relation finding, then each duplicate query
that one function runs again for the same object: `remember.py`), in the report's order:
write the fix into the current text of its origin's file (earlier kept fixes included), replay
the recorded requests of every endpoint that runs code of that file, and keep the edit only if
the finding's endpoint runs fewer queries and no response changed. A response that changed is
replayed once more without any edit before the edit is blamed: two runs of the same code that
differ make the request unstable, not judged. An annotation nothing reads is tried again with the
per-row line reading it (`reads.py`). The files on disk are written only at the end, and only
with --apply.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import stat
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from perftoolkit.conf import project_root
from perftoolkit.core.events import CallSite, RequestProfile
from perftoolkit.core.findings import Finding
from perftoolkit.core.fix.calls import parse_fix
from perftoolkit.core.fix.context import map_line
from perftoolkit.core.fix.outcome import FixOutcome, exit_code
from perftoolkit.core.fix.responses import (
    ResponseKey,
    difference,
    learned_context,
    learned_volatile,
    masked,
)
from perftoolkit.core.runs.run import AppliedFix, AuditRun
from perftoolkit.exceptions import ConfigurationError, ReportFormatError
from perftoolkit.fix.edit import AlreadyThere, apply_fix
from perftoolkit.fix.locate import Unplaceable
from perftoolkit.fix.options import FixOptions
from perftoolkit.fix.placement import (
    function_view_target,
    placement_for,
    rows_line_now,
    view_target,
)
from perftoolkit.fix.reads import annotation_read, rewrite_read
from perftoolkit.fix.remember import remember_result
from perftoolkit.fix.runner import (
    Endpoint,
    ReplayFailed,
    ReplayRequest,
    ReplayResult,
    recorded_requests,
    replay,
)
from perftoolkit.fix.source import Source, read_source
from perftoolkit.middleware.recording import recorded_profiles
from perftoolkit.reporting.schema import read_run, write_run, write_text

Progress = Callable[[str], None]

logger = logging.getLogger("perftoolkit")


@dataclass
class FixResult:
    outcomes: list[FixOutcome]
    patch: str  # the unified diff of every kept edit
    files: dict[Path, str] = field(default_factory=dict)  # edited path → new text
    written: list[Path] = field(default_factory=list)  # the patch file or the edited files

    @property
    def exit_code(self) -> int:
        return exit_code(self.outcomes)


@dataclass
class _State:
    """The edits kept so far and what the endpoints replay like with them."""

    sources: dict[Path, Source] = field(default_factory=dict)  # each file as first read
    originals: dict[Path, str] = field(default_factory=dict)
    current: dict[Path, str] = field(default_factory=dict)
    results: dict[ReplayRequest, ReplayResult] = field(default_factory=dict)
    baseline: dict[ReplayRequest, ReplayResult] = field(default_factory=dict)
    edited_by: dict[Path, list[str]] = field(default_factory=dict)
    # requests whose responses are not judged, and how two runs of the same code differed: the
    # two runs of the baseline, or the baseline and a later replay without any edit (a rendered
    # time that moved on between two replays, a file or index written between them)
    unstable: dict[ReplayRequest, str] = field(default_factory=dict)


NO_FEWER = "reverted: the endpoint ran no fewer queries"
# The findings perf_fix writes a fix for, in the order it tries them: a duplicate query only when
# its fix is to keep a result (`remember.py`), not the select_related of rows sharing a related row.
FIXED_KINDS = ("n_plus_one", "lazy_relation", "duplicate_query")


def run_fix(
    options: FixOptions,
    *,
    settings_module: str,
    project_dir: Path | None = None,
    progress: Progress = lambda _: None,
) -> FixResult:
    run = read_run(options.report)
    findings = _selected(run, options.only)
    root = project_root()
    requests = _requests(run, options.report)
    with tempfile.TemporaryDirectory(prefix="perftoolkit-bodies-") as bodies:
        service = _Service(
            run, root, requests, settings_module, project_dir or Path.cwd(), progress, Path(bodies)
        )
        outcomes = service.fix_all(findings)
    state = service.state
    patch = _patch(state, root)
    result = FixResult(
        outcomes, patch, {p: t for p, t in state.current.items() if t != state.originals[p]}
    )
    if options.apply:
        for path, text in result.files.items():
            # write_text translates no line ending: a "\r\n" file stays one
            mode = stat.S_IMODE(path.stat().st_mode)
            write_text(state.sources[path].file_text(text), path)
            os.chmod(path, mode)  # the file's own mode, not a report's 0644
            result.written.append(path)
        _record(run, options.report, outcomes, result, root)
    elif patch:
        result.written.append(write_text(patch, options.patch))
    return result


_TAKEN = re.compile(r"already annotates (\w+) as ")


def _renamed(code: str, reason: str) -> str | None:
    """`.annotate(x_count=…)` as `.annotate(x_count_2=…)` when the queryset already annotates
    `x_count` as something else (two counts of one relation, filtered differently); None for
    any other reason, or after a few names."""
    taken = _TAKEN.search(reason)
    calls = parse_fix(code)
    if taken is None or calls is None or len(calls) != 1 or calls[0].method != "annotate":
        return None
    name = taken.group(1)
    base, _, number = name.rpartition("_")
    following = f"{base}_{int(number) + 1}" if number.isdigit() and base else f"{name}_2"
    if following.endswith("_6") or not code.startswith(f".annotate({name}="):
        return None
    return code.replace(f".annotate({name}=", f".annotate({following}=", 1)


def _selected(run: AuditRun, only: tuple[str, ...]) -> list[Finding]:
    # N+1s first: a lazy read's join may then merge into the select_related an N+1 fix wrote.
    findings = [
        f
        for kind in FIXED_KINDS
        for f in run.findings
        if f.kind == kind and (kind != "duplicate_query" or (f.fix and f.fix.action == "cache"))
    ]
    wanted = {i.strip() for each in only for i in each.split(",") if i.strip()}
    unknown = wanted - {f.id for f in findings}
    if unknown:
        raise ConfigurationError(
            f"--only names {', '.join(sorted(unknown))}, which is not the id of an N+1, "
            "lazy-relation or duplicate-query finding of the report. Its ids: "
            f"{', '.join(f.id for f in findings) or 'none'}."
        )
    return [f for f in findings if not wanted or f.id in wanted]


def _requests(
    run: AuditRun, report: Path
) -> tuple[dict[Endpoint, list[ReplayRequest]], list[RequestProfile]]:
    if not run.record_dir:
        raise ReportFormatError(
            "The report names no record directory (`record_dir`), so its requests cannot be "
            "replayed. Rebuild it with `perftoolkit report build <record-dir> -o report.json`."
        )
    if not Path(run.record_dir).is_dir():
        raise ReportFormatError(
            f"{report}: its record directory {run.record_dir} does not exist. A report names its "
            "record directory relative to its own file, so a report copied or moved elsewhere "
            "loses it: run perf_fix on the report where `report build` wrote it, or build it "
            "again where you want it (`perftoolkit report build <record-dir> -o report.json`)."
        )
    profiles = list(recorded_profiles(run.record_dir))
    return recorded_requests(profiles), profiles


class _Service:
    def __init__(
        self,
        run: AuditRun,
        root: Path,
        requests: tuple[dict[Endpoint, list[ReplayRequest]], list[RequestProfile]],
        settings_module: str,
        project_dir: Path,
        progress: Progress,
        bodies: Path | None = None,
    ) -> None:
        self.run = run
        self.root = root
        self.requests, self.profiles = requests
        self.settings_module = settings_module
        self.project_dir = project_dir
        self.progress = progress
        self.bodies = bodies  # the normalised response bodies, by digest
        # Every replay runs at this instant: "5 minutes ago" reads the same in each run.
        self.clock = time.time()
        # Words that change on every render, learnt from two runs of the same code (_learn).
        self.learned: list[re.Pattern[str]] = []
        self.state = _State()
        # Fixes tried so far and to try, for the progress lines ("[3/28] id: replaying …").
        self._tried, self._to_try = 0, 0

    def fix_all(self, findings: list[Finding]) -> list[FixOutcome]:
        findings = [self._placed(f) for f in findings]
        planned = [(f, self._plan(f)) for f in findings]
        self._to_try = sum(1 for _, (path, _) in planned if path is not None)
        files = {path for _, (path, _) in planned if path is not None}
        endpoints = {e for path in files for e in self._affected(path)}
        endpoints |= {(f.method, f.route) for f, (path, _) in planned if path is not None}
        self._baseline(sorted(endpoints))
        outcomes = [
            problem if path is None else self._attempt(finding, path)
            for finding, (path, problem) in planned
        ]
        # A fix for rows loaded through another fix's prefetch (a plan's meals' items) can be
        # placed once that prefetch is kept: try the unplaced ones again while edits are kept.
        kept = True
        while kept:
            kept = False
            for index, (finding, (path, _)) in enumerate(planned):
                if (
                    path is None
                    or outcomes[index].status != "unplaceable"
                    or path not in self.state.edited_by
                ):
                    continue
                again = self._attempt(finding, path)
                if again.status != "unplaceable":
                    outcomes[index] = again
                    kept = kept or again.status == "verified"
        return outcomes

    def _placed(self, finding: Finding) -> Finding:
        """A finding without an origin (library code ran the rows' query: a syndication feed's
        `items()`, a paginator) gets the one statement of its endpoint's own view code that builds
        a queryset of its rows' model, when there is exactly one."""
        if finding.kind == "duplicate_query":
            # its fix goes into the function that runs the query: the callsite
            return replace(finding, origin=finding.callsite)
        if finding.origin is not None or finding.fix is None:
            return finding
        try:
            target = function_view_target(
                finding, self._paths(finding), self.root, placement_for(finding, self.root)
            )
        except Exception:  # the view could not be resolved or read: no origin, as recorded
            logger.debug("perftoolkit: no view code for %s", finding.id, exc_info=True)
            return finding
        if target is None:
            return finding
        file, line = target
        return replace(finding, origin=CallSite(file.relative_to(self.root).as_posix(), line, ""))

    def _plan(self, finding: Finding) -> tuple[Path | None, FixOutcome]:
        """The file the fix goes into, or the outcome that says why there is none."""

        def no(status: str, reason: str) -> tuple[None, FixOutcome]:
            return None, self._outcome(finding, status, reason)

        if finding.fix is None:
            return no("not_fixable", "no exact fix: the finding names no relation")
        if finding.kind == "duplicate_query":
            return self._plan_memo(finding)
        if finding.origin is None:
            return no("not_fixable", "no origin: no line of the project loaded the rows")
        if not finding.origin.file.endswith(".py"):
            return no("not_fixable", f"the rows are loaded in a template ({finding.origin.file})")
        if parse_fix(finding.fix.code) is None:
            return no("not_fixable", "the fix is advice, not queryset code")
        if finding.fix.action == "annotate" and finding.callsite is None:
            return no(
                "not_fixable",
                "the fix is an annotation the per-row code must read instead of the relation, "
                "and that code is a library's (no project line runs the queries)",
            )
        path = (self.root / finding.origin.file).resolve()
        if not path.is_relative_to(self.root):
            return no(
                "unplaceable",
                f"{finding.origin.file} is outside the project root {self.root}; set "
                "PERFTOOLKIT['PROJECT_ROOT'] to a directory that holds it (the repository's root)",
            )
        if not path.is_file():
            return no("unplaceable", f"{finding.origin.file} is not a file under {self.root}")
        if not os.access(path, os.W_OK):
            return no("unplaceable", f"{finding.origin.file} is not writable")
        if path not in self.state.sources:
            try:
                self.state.sources[path] = read_source(path)
            except UnicodeDecodeError as exc:
                return no(
                    "unplaceable",
                    f"{finding.origin.file} is not UTF-8 (byte {exc.start}); perf_fix edits "
                    "UTF-8 source only",
                )
        return path, self._outcome(finding, "unplaceable", "")

    def _plan_memo(self, finding: Finding) -> tuple[Path | None, FixOutcome]:
        """The file of the function whose result a duplicate query's fix keeps (`remember.py`),
        or why the fix stays advice: the query runs outside a project function, from several
        places, or in a function that keeping its result could change."""

        def advice(reason: str) -> tuple[None, FixOutcome]:
            return None, self._outcome(finding, "not_fixable", f"the fix is advice: {reason}")

        site = finding.callsite
        if site is None or not site.file.endswith(".py") or not site.function:
            where = f" ({site.file})" if site else ""
            return advice(f"no function of the project runs the query{where}")
        sites = sorted(
            {
                f"{q.callsite.file}:{q.callsite.line}"
                for p in self.profiles
                if p.endpoint == (finding.method, finding.route)
                for q in p.queries
                if q.fingerprint == finding.fingerprint and q.callsite is not None
            }
        )
        if len(sites) > 1:
            return advice(
                f"the query runs from {len(sites)} places ({', '.join(sites)}): keep one result "
                "where they can all reach it"
            )
        path = (self.root / site.file).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return advice(f"{site.file} is not a file under the project root {self.root}")
        if not os.access(path, os.W_OK):
            return None, self._outcome(finding, "unplaceable", f"{site.file} is not writable")
        try:
            current, _ = self._texts(path)
        except (OSError, UnicodeDecodeError):
            return advice(f"{site.file} cannot be read as UTF-8")
        try:
            remember_result(current, site.line, site.function)
        except Unplaceable as exc:
            return advice(str(exc))
        except AlreadyThere:
            pass  # not a failure: planned all the same, and `_attempt` reports it as already there
        return path, self._outcome(finding, "unplaceable", "")

    def _outcome(
        self,
        finding: Finding,
        status: str,
        reason: str,
        queries_before: int | None = None,
        queries_after: int | None = None,
    ) -> FixOutcome:
        origin = finding.origin
        return FixOutcome(
            finding=finding.id,
            method=finding.method,
            route=finding.route,
            file=origin.file if origin else None,
            line=origin.line if origin else None,
            code=finding.fix.code if finding.fix else "",
            status=status,  # type: ignore[arg-type]  # one of Status, checked by the callers
            reason=reason,
            queries_before=queries_before,
            queries_after=queries_after,
        )

    def _affected(self, path: Path) -> set[Endpoint]:
        """Endpoints whose recorded requests ran code of `path`: a query from it, the view's
        queryset in it, or a finding there."""
        relative = path.relative_to(self.root).as_posix()
        out: set[Endpoint] = set()
        for profile in self.profiles:
            sites = [q.callsite for q in profile.queries] + [profile.queryset_site]
            if any(s is not None and s.file == relative for s in sites):
                out.add(profile.endpoint)
        for finding in self.run.findings:
            if any(
                s is not None and s.file == relative for s in (finding.origin, finding.callsite)
            ):
                out.add((finding.method, finding.route))
        return out

    def _baseline(self, endpoints: list[Endpoint]) -> None:
        requests = [r for e in endpoints for r in self.requests.get(e, [])]
        self.progress(
            f"replaying {_count(len(requests), 'recorded request')} of "
            f"{_count(len(endpoints), 'endpoint')}"
        )
        results = replay(
            requests,
            {},
            project_dir=self.project_dir,
            settings_module=self.settings_module,
            bodies=self.bodies,
            clock=self.clock,
        )
        self.state.baseline = dict(zip(requests, results, strict=True))
        self.state.results = dict(self.state.baseline)
        for request, result in self.state.baseline.items():
            if result.first is not None and result.key is not None:
                if not self._learn(request, result.first, result.key):
                    self.state.unstable[request] = self._difference(result.first, result.key)
            elif not result.stable:
                self.state.unstable[request] = "one run failed, the other did not"

    def _learn(self, request: ReplayRequest, first: ResponseKey, second: ResponseKey) -> bool:
        """Whether two runs of the same code differ only in words that change on every render (a
        component's random id, a nonce): those are learnt, left out of every comparison from
        then on, and the request is judged. False when they differ in any other way."""
        one, two = self._body(first), self._body(second)
        if one is None or two is None or first.kind not in ("json", "text"):
            return False
        learned = learned_volatile(one, two)
        if not learned:
            return False
        known = {p.pattern for p in self.learned}
        self.learned.extend(p for p in learned if p.pattern not in known)
        if self._difference(first, second):
            return False
        new = [p for p in learned if p.pattern not in known]
        if new:
            parts = ", ".join(f"{learned_context(p)}…" for p in new)
            self.progress(
                f"{request} answers differently to two runs of the same code in words that "
                f"change on every render ({parts}): compared without them"
            )
        return True

    def _attempt(self, finding: Finding, path: Path) -> FixOutcome:
        assert finding.fix is not None
        assert finding.origin is not None
        self._tried += 1
        state = self.state
        placement = placement_for(finding, self.root)
        try:
            current, original = self._texts(path)
            line = map_line(original, current, finding.origin.line) or finding.origin.line
            kept_on = ""
            try:
                if finding.kind == "duplicate_query":
                    edited, kept_on = remember_result(current, line, finding.origin.function)
                else:
                    edited = apply_fix(current, line, finding.fix.code, placement)
            except Unplaceable:
                if finding.kind == "duplicate_query":
                    raise
                # The origin is in a base class of the endpoint's view (a shared
                # get_context_data): the rows are the view's own queryset. Or the origin line
                # does not build the rows (a page object's len(self.object_list)): a view
                # function's one queryset of their model is where they are built.
                paths = self._paths(finding)
                target = view_target(finding, paths, self.root)
                of_view_class = target is not None
                if target is None:
                    target = function_view_target(finding, paths, self.root, placement)
                if target is None:
                    raise
                path, at = target
                current, original = self._texts(path)
                line = map_line(original, current, at) or at
                if of_view_class and current != original:
                    # an earlier fix may have given the class a `queryset = …` of its own
                    line = rows_line_now(current, line)
                edited = apply_fix(current, line, finding.fix.code, placement)
                self._ensure_baseline(path)
        except Unplaceable as exc:
            renamed = _renamed(finding.fix.code, str(exc))
            if renamed is not None:  # the name is another count's: this one takes the next
                return self._attempt(replace(finding, fix=replace(finding.fix, code=renamed)), path)
            return self._outcome(finding, "unplaceable", str(exc))
        except AlreadyThere as exc:
            if current == original:
                return self._outcome(
                    finding,
                    "unplaceable",
                    str(exc) or "the queryset at the origin already has this fix",
                )
            earlier = ", ".join(state.edited_by.get(path, []))
            return self._outcome(finding, "covered", f"written by the fix of {earlier}")
        outcome = self._verify(finding, path, edited)
        if kept_on and outcome.status == "verified":
            kept = f"{finding.origin.function}() keeps its result on {kept_on}"
            return replace(outcome, reason=f"{kept} (for as long as that object lives)")
        if outcome.status == "rejected" and outcome.reason == NO_FEWER:
            # An annotation nothing reads: read it where the row is counted, and try again.
            read = self._read_edit(finding, path, edited)
            if read is not None:
                again = self._verify(finding, path, edited, read)
                if again.status == "verified":
                    return again
        return outcome

    def _read_edit(self, finding: Finding, path: Path, edited: str) -> tuple[Path, str] | None:
        """The finding's own line rewritten to read the annotation its fix adds (`reads.py`), in
        that file's current text (the origin's edit included when it is the same file); None
        when the fix is not such an annotation or the line cannot be rewritten."""
        assert finding.fix is not None
        site = finding.callsite
        how = annotation_read(finding.fix.code, exists=".exists()" in finding.message)
        if (
            how is None
            or site is None
            or not site.file.endswith(".py")
            or not finding.path
            or "__" in finding.path
        ):
            return None
        target = (self.root / site.file).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            return None
        if not os.access(target, os.W_OK):
            return None
        try:
            current, original = self._texts(target)
        except (OSError, UnicodeDecodeError):
            return None
        text = edited if target == path else current
        line = map_line(original, text, site.line)
        if line is None:
            return None
        try:
            rewritten = rewrite_read(text, line, finding.path, *how)
        except Unplaceable:
            return None
        if target != path:
            self._ensure_baseline(target)
        return target, rewritten

    def _texts(self, path: Path) -> tuple[str, str]:
        """The current text of `path` (kept edits included) and its original."""
        state = self.state
        if path not in state.sources:
            state.sources[path] = read_source(path)
        original = state.originals.setdefault(path, state.sources[path].text)
        return state.current.setdefault(path, original), original

    def _paths(self, finding: Finding) -> list[str]:
        return [r.path for r in self.requests.get((finding.method, finding.route), [])]

    def _ensure_baseline(self, path: Path) -> None:
        """The endpoints of a file first edited away from its finding's origin are replayed
        unedited too, so their responses are compared."""
        missing = [
            r
            for e in sorted(self._affected(path))
            for r in self.requests.get(e, [])
            if r not in self.state.baseline
        ]
        if not missing:
            return
        results = replay(
            missing,
            {},
            project_dir=self.project_dir,
            settings_module=self.settings_module,
            clock=self.clock,
        )
        for request, result in zip(missing, results, strict=True):
            self.state.baseline[request] = result
            self.state.results.setdefault(request, result)

    def _verify(
        self,
        finding: Finding,
        path: Path,
        edited: str,
        read: tuple[Path, str] | None = None,
    ) -> FixOutcome:
        """Replay with `edited` as `path` (and `read`'s rewrite of the per-row read, when given)
        and keep it if the finding's endpoint runs fewer queries and no response changed."""
        state = self.state
        edits = {path: edited}
        if read is not None:
            edits[read[0]] = read[1]
        endpoint = (finding.method, finding.route)
        own = self.requests.get(endpoint, [])
        if not own:
            return self._outcome(
                finding,
                "unverifiable",
                "no GET request of this endpoint was recorded with its path",
            )
        unjudged = self._unjudged(own)
        if unjudged:
            return self._outcome(finding, "unverifiable", unjudged)
        affected = {endpoint}.union(*(self._affected(p) for p in edits))
        requests = [r for e in sorted(affected) for r in self.requests.get(e, [])]
        overlay = {
            **{p: t for p, t in state.current.items() if t != state.originals[p]},
            **edits,
        }
        step = ""
        if self._to_try:  # a second pass's tries (after a prefetch was kept) count beyond
            step = f"[{self._tried}/{self._to_try}] " if self._tried <= self._to_try else "[again] "
        self.progress(
            f"{step}{finding.id}: replaying {_count(len(requests), 'request')} with the fix"
        )
        before = max(state.results[r].queries or 0 for r in own)
        try:
            results = replay(
                requests,
                overlay,
                project_dir=self.project_dir,
                settings_module=self.settings_module,
                bodies=self.bodies,
                clock=self.clock,
            )
        except ReplayFailed as exc:
            return self._outcome(finding, "rejected", f"reverted: {exc}", queries_before=before)
        by_request = dict(zip(requests, results, strict=True))
        after = max(by_request[r].queries or 0 for r in own)
        problem = self._compare(by_request, finding.id)
        if problem:
            return self._outcome(
                finding,
                "rejected",
                f"reverted: {problem}",
                queries_before=before,
                queries_after=after,
            )
        unjudged = self._unjudged(own)
        if unjudged:
            return self._outcome(
                finding, "unverifiable", unjudged, queries_before=before, queries_after=after
            )
        counts = [(state.results[r].queries or 0, by_request[r].queries or 0) for r in own]
        if any(a > b for b, a in counts) or not any(a < b for b, a in counts):
            return self._outcome(
                finding,
                "rejected",
                NO_FEWER,
                queries_before=before,
                queries_after=after,
            )
        worse = [
            r
            for r in requests
            if r not in own
            and r not in state.unstable
            and r in state.results
            and (by_request[r].queries or 0) > (state.results[r].queries or 0)
        ]
        if worse:
            # a queryset other endpoints share: the load costs them a query they do not need
            request = worse[0]
            more = f"{state.results[request].queries or 0} → {by_request[request].queries or 0}"
            return self._outcome(
                finding,
                "rejected",
                f"reverted: {request} ran more queries ({more}); the queryset serves it too, "
                "and it does not read what the fix loads",
                queries_before=before,
                queries_after=after,
            )
        reached = self._callsite_drop(finding, set(edits), own, by_request)
        if reached:
            return self._outcome(
                finding,
                "rejected",
                f"reverted: {reached}",
                queries_before=before,
                queries_after=after,
            )
        for each, text in edits.items():
            state.current[each] = text
            state.edited_by.setdefault(each, []).append(finding.id)
        state.results.update(by_request)
        edited_file = path.relative_to(self.root).as_posix()
        reason = ""
        if read is not None:
            reason = f"the per-row read at {finding.callsite} reads the annotation"
        outcome = self._outcome(
            finding, "verified", reason, queries_before=before, queries_after=after
        )
        return replace(outcome, edited=edited_file) if edited_file != outcome.file else outcome

    def _callsite_drop(
        self,
        finding: Finding,
        paths: set[Path],
        own: list[ReplayRequest],
        results: dict[ReplayRequest, ReplayResult],
    ) -> str:
        """Why the edit does not serve the finding's own line, when that line ran no fewer
        queries (another line's queries dropped: the fix loads what that line reads, not what
        this one does); "" when it did, or when the line cannot be told (it is in an edited file,
        whose lines move, or ran no query the capture attributes to it)."""
        site = finding.callsite
        if site is None:
            return ""
        edited = {p.relative_to(self.root).as_posix() for p in [*self.state.current, *paths]}
        if site.file in edited:
            return ""
        where = f"{site.file}:{site.line}"
        before = sum(self.state.results[r].sites.get(where, 0) for r in own)
        after = sum(results[r].sites.get(where, 0) for r in own)
        if before == 0 or after < before:
            return ""
        return (
            f"the queries at {where} did not drop ({before} → {after}); the fix loads rows "
            "other code reads, not the ones that line reads"
        )

    def _unjudged(self, own: list[ReplayRequest]) -> str:
        """Why the finding's own requests cannot judge an edit ("" when they can)."""
        for request in own:
            base = self.state.baseline[request]
            failing = _server_error(base)
            if failing:
                return (
                    f"{request} answers {failing} when replayed with the code unchanged (a "
                    "setting or a row the replay lacks), so no response can tell whether the fix "
                    "changed it"
                )
            if base.error and request not in self.state.unstable:
                return f"{request} fails without the fix: {base.error}"
            if request in self.state.unstable:
                return (
                    f"{request} answers differently to two runs of the same code "
                    f"({self.state.unstable[request]}); declare the changing parts in "
                    'PERFTOOLKIT["VOLATILE"]'
                )
        return ""

    def _compare(self, results: dict[ReplayRequest, ReplayResult], finding: str) -> str:
        """The first response the edit changed, as "request: how"; "" when none did.

        The requests whose responses differ from the baseline are replayed again without this
        edit (the edits kept so far only). One that now answers as it did with the edit changed
        with the time since the baseline ("5 minutes ago" became "6 minutes ago"), not with the
        edit: its baseline becomes the new answer. One that answers a third way drifts by itself:
        it is unstable, not judged now or later. One that answers as the baseline did was changed
        by the edit."""
        differing = self._differences(results)
        if not differing:
            return ""
        broken = [r for r in differing if results[r].error or results[r].key is None]
        if broken:
            return f"{broken[0]}: {differing[broken[0]]}"
        requests = list(differing)
        self.progress(
            f"{finding}: replaying {_count(len(requests), 'request')} without this fix, whose "
            "responses changed"
        )
        kept = {p: t for p, t in self.state.current.items() if t != self.state.originals[p]}
        try:
            again = replay(
                requests,
                kept,
                project_dir=self.project_dir,
                settings_module=self.settings_module,
                bodies=self.bodies,
                clock=self.clock,
            )
        except ReplayFailed as exc:  # no control: the difference stands, with why
            return f"{requests[0]}: {differing[requests[0]]} (not replayed without it: {exc})"
        caused = ""
        for request, control in zip(requests, again, strict=True):
            base = self.state.baseline[request]
            assert base.key is not None
            result_key = results[request].key
            if (
                control.key is not None
                and control.stable
                and result_key is not None
                and self._same(control.key, result_key)
            ):
                self.state.baseline[request] = control  # the clock's change, not the edit's
            elif control.key is not None and self._same(control.key, base.key):
                caused = caused or f"{request}: {differing[request]}"
            else:
                drift = (
                    self._difference(base.key, control.key)
                    if control.key is not None
                    else control.error or "no response"
                )
                self.state.unstable[request] = drift or "one run failed, the other did not"
        return caused

    def _differences(self, results: dict[ReplayRequest, ReplayResult]) -> dict[ReplayRequest, str]:
        """Each judged request whose response is not the baseline's, with how."""
        out: dict[ReplayRequest, str] = {}
        for request, result in results.items():
            base = self.state.baseline.get(request)
            if base is None or base.key is None or request in self.state.unstable:
                continue
            if result.error or result.key is None:
                out[request] = result.error or "no response"
                continue
            changed = self._difference(base.key, result.key)
            if changed:
                out[request] = changed
        return out

    def _difference(self, before: ResponseKey, after: ResponseKey) -> str:
        one, two = self._body(before), self._body(after)
        if self.learned and one is not None and two is not None and before.digest != after.digest:
            one, two = masked(one, self.learned), masked(two, self.learned)
            if (before.status, before.kind, before.location) == (
                after.status,
                after.kind,
                after.location,
            ) and one == two:
                return ""
        return difference(before, after, one, two)

    def _same(self, one: ResponseKey, two: ResponseKey) -> bool:
        return one == two or not self._difference(one, two)

    def _body(self, key: ResponseKey) -> bytes | None:
        if self.bodies is None:
            return None
        try:
            return (self.bodies / key.digest).read_bytes()
        except OSError as exc:  # the reason then says that, not where, the bodies differ
            logger.debug("perftoolkit: replayed body %s unreadable: %s", key.digest, exc)
            return None


def _server_error(result: ReplayResult) -> str:
    """ "status 500" when the replayed request failed on the server; "" otherwise."""
    if result.key is not None and result.key.status >= 500:
        return f"status {result.key.status}"
    return ""


def _count(n: int, noun: str) -> str:
    """
    >>> _count(1, "request"), _count(2, "recorded request")
    ('1 request', '2 recorded requests')
    """
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _patch(state: _State, root: Path) -> str:
    chunks: list[str] = []
    for path in sorted(state.current):
        before, after = state.originals[path], state.current[path]
        if before == after:
            continue
        source = state.sources[path]
        name = path.relative_to(root).as_posix()
        chunks.append(unified_diff(source.file_text(before), source.file_text(after), name))
    return "".join(chunks)


def unified_diff(before: str, after: str, name: str) -> str:
    r"""The diff of one file that `git apply` and `patch -p1` apply to it: its lines end at "\n"
    only, as theirs do, so a "\r\n" line keeps its "\r" (and a form feed does not end a line),
    and a last line without a newline is marked as such."""
    out: list[str] = []
    for line in difflib.unified_diff(_lines(before), _lines(after), f"a/{name}", f"b/{name}"):
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    r"""`text` cut after each "\n", the endings kept."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def _record(
    run: AuditRun, report: Path, outcomes: list[FixOutcome], result: FixResult, root: Path
) -> None:
    """report.json remembers what --apply wrote (earlier runs' entries kept, by finding)."""
    files = sorted(p.relative_to(root).as_posix() for p in result.files)
    applied = {f.finding: f for f in run.fixes}
    for outcome in outcomes:
        if outcome.status == "verified" and outcome.file:
            applied[outcome.finding] = AppliedFix(
                finding=outcome.finding,
                files=tuple(f for f in files if f == (outcome.edited or outcome.file)),
                queries_before=outcome.queries_before,
                queries_after=outcome.queries_after,
                verified=True,
            )
    write_run(replace(run, fixes=tuple(applied.values())), report)


def summary(result: FixResult, options: FixOptions) -> str:
    kept = sum(1 for o in result.outcomes if o.status == "verified")
    fixable = sum(1 for o in result.outcomes if o.fixable)
    verified = sum(1 for o in result.outcomes if o.fixable and o.verified)
    where = (
        f"written into {len(result.written)} file{'s' if len(result.written) != 1 else ''}"
        if options.apply
        else f"patch: {result.written[0]}"
        if result.written
        else "no patch: nothing was verified"
    )
    statuses: Counter[str] = Counter(o.status for o in result.outcomes)
    left = [
        _count(statuses[status], noun)
        for status, noun in (
            ("rejected", "reverted edit"),
            ("unverifiable", "unverifiable finding"),
            ("unplaceable", "unplaceable finding"),
        )
        if statuses[status]
    ]
    return (
        f"{verified} of {fixable} fixable findings verified ({_count(kept, 'edit')} kept"
        + "".join(f", {each}" for each in left)
        + f", {len(result.outcomes) - fixable} without an exact fix or origin); {where}."
    )

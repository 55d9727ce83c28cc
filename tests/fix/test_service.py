"""The verifier's own-line rule: an edit whose endpoint runs fewer queries is still reverted when
the finding's own line runs as many as before (the eager load serves another line's reads)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from perftoolkit.core.events import CallSite, QueryEvent, RequestProfile
from perftoolkit.core.findings import Finding, Fix
from perftoolkit.core.fix.outcome import FixOutcome, render_table
from perftoolkit.core.fix.responses import ResponseKey
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.fix import service as service_module
from perftoolkit.fix.runner import ReplayRequest, ReplayResult
from perftoolkit.fix.service import _Service

ENDPOINT = ("GET", "api/plans/")
REQUEST = ReplayRequest(ENDPOINT, "GET", "/api/plans/")
FINDING = Finding(
    kind="n_plus_one",
    method="GET",
    route="api/plans/",
    message="N+1",
    model="plans.Meal",
    callsite=CallSite("plans/models.py", 88, "nutritional_values"),
    origin=CallSite("plans/views.py", 12, "PlanList.get_queryset"),
)


def service(tmp_path: Path, before: dict[str, int]) -> _Service:
    run = object.__new__(_Service)
    run.root = tmp_path
    run.clock = 0.0
    run.learned = []
    run.state = type("State", (), {})()
    run.state.current = {}  # type: ignore[attr-defined]
    run.state.results = {  # type: ignore[attr-defined]
        REQUEST: ReplayResult(queries=745, key=None, stable=True, sites=before)
    }
    return run


def check(tmp_path: Path, before: dict[str, int], after: dict[str, int]) -> str:
    result = ReplayResult(queries=705, key=None, stable=True, sites=after)
    return service(tmp_path, before)._callsite_drop(
        FINDING, {tmp_path / "plans/views.py"}, [REQUEST], {REQUEST: result}
    )


def test_own_line_as_many_queries_is_reverted_with_its_counts(tmp_path: Path) -> None:
    before = {"plans/models.py:88": 41, "plans/serializers.py:30": 41}
    after = {"plans/models.py:88": 41, "plans/serializers.py:30": 1}
    assert check(tmp_path, before, after) == (
        "the queries at plans/models.py:88 did not drop (41 → 41); the fix loads rows other code "
        "reads, not the ones that line reads"
    )


def test_own_line_fewer_queries_is_kept(tmp_path: Path) -> None:
    assert check(tmp_path, {"plans/models.py:88": 41}, {"plans/models.py:88": 1}) == ""


def test_own_line_in_the_edited_file_is_not_judged(tmp_path: Path) -> None:
    finding = replace(FINDING, callsite=CallSite("plans/views.py", 20, "PlanList.get"))
    result = ReplayResult(queries=705, key=None, stable=True, sites={"plans/views.py:20": 41})
    judged = service(tmp_path, {"plans/views.py:20": 41})._callsite_drop(
        finding, {tmp_path / "plans/views.py"}, [REQUEST], {REQUEST: result}
    )
    assert judged == ""


def test_origin_outside_the_project_root_is_unplaceable_not_a_traceback(tmp_path: Path) -> None:
    """Origins are relative to PROJECT_ROOT; code beside it (`../src/shop/views.py`, a
    project whose settings live in a sub-directory) is named with a way to reach it."""
    root = tmp_path / "sandbox"
    root.mkdir()
    (tmp_path / "src" / "shop").mkdir(parents=True)
    (tmp_path / "src" / "shop" / "views.py").write_text("rows = Meal.objects.all()\n")
    outside = replace(
        FINDING,
        origin=CallSite("../src/shop/views.py", 1, "<module>"),
        fix=Fix("select_related", '.select_related("plan")'),
    )
    path, outcome = service(root, {})._plan(outside)
    assert (path, outcome.status, outcome.reason) == (
        None,
        "unplaceable",
        f"../src/shop/views.py is outside the project root {root}; set "
        "PERFTOOLKIT['PROJECT_ROOT'] to a directory that holds it (the repository's root)",
    )


def test_endpoint_failing_before_the_edit_is_unverifiable_with_its_status(tmp_path: Path) -> None:
    """A request that answers 500 to the unchanged code (a setting the replay lacks) is not
    called volatile: no VOLATILE pattern would help, and its responses prove nothing."""
    run = service(tmp_path, {})
    run.requests = {ENDPOINT: [REQUEST]}
    failed = ReplayResult(queries=9, key=ResponseKey(500, "text", "d", 10), stable=False)
    run.state.baseline = {REQUEST: failed}  # type: ignore[attr-defined]
    finding = replace(FINDING, fix=Fix("select_related", '.select_related("plan")'))
    outcome = run._verify(finding, tmp_path / "plans/views.py", "")
    assert (outcome.status, outcome.reason) == (
        "unverifiable",
        "GET /api/plans/ answers status 500 when replayed with the code unchanged (a setting or "
        "a row the replay lacks), so no response can tell whether the fix changed it",
    )


def _rechecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unedited_now: ResponseKey
) -> tuple[str, ResponseKey | None]:
    """An edit whose replay answered `EDITED` where the baseline said `BASE`; the request
    replayed again without the edit answers `unedited_now`."""
    run = service(tmp_path, {})
    run.project_dir = tmp_path
    run.settings_module = "settings"
    run.bodies = None
    run.progress = lambda _: None
    run.state.originals = {}  # type: ignore[attr-defined]
    run.state.unstable = {}  # type: ignore[attr-defined]
    run.state.baseline = {REQUEST: ReplayResult(9, BASE, stable=True)}  # type: ignore[attr-defined]
    calls: list[dict[Path, str]] = []

    def replay(requests: list[ReplayRequest], overlay: dict[Path, str], **_: object) -> list:
        calls.append(overlay)
        return [ReplayResult(9, unedited_now, stable=True) for _ in requests]

    monkeypatch.setattr(service_module, "replay", replay)
    problem = run._compare({REQUEST: ReplayResult(5, EDITED, stable=True)}, "c158b75e33f8")
    assert calls == [{}]  # once, without the edit
    return problem, run.state.baseline[REQUEST].key  # type: ignore[attr-defined]


BASE = ResponseKey(200, "text", "5 minutes ago", 34225)
EDITED = ResponseKey(200, "text", "6 minutes ago", 34225)


def test_a_difference_the_unedited_code_shows_too_is_the_clocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "5 minutes ago" became "6 minutes ago" between the baseline and the edit's replay: the
    code without the edit answers as the edit did, so the edit is not reverted for it, and that
    answer is the request's baseline from then on."""
    assert _rechecked(tmp_path, monkeypatch, EDITED) == ("", EDITED)


def test_a_difference_the_unedited_code_does_not_show_is_the_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _rechecked(tmp_path, monkeypatch, BASE) == (
        "GET /api/plans/: body changed (34225 → 34225 bytes)",
        BASE,
    )


def test_the_table_names_the_file_an_edit_went_into_when_not_the_origins() -> None:
    row = FixOutcome(
        "c158b75e33f8",
        "GET",
        "changes/",
        "babybuddy/views.py",
        87,
        '.select_related("child")',
        "verified",
        queries_before=63,
        queries_after=38,
        edited="core/views.py",
    )
    assert render_table([row]).splitlines()[1] == (
        "c158b75e33f8  GET changes/  babybuddy/views.py:87  63 → 38  yes (in core/views.py)"
    )


def test_an_annotation_for_rows_a_library_reads_is_not_fixable(tmp_path: Path) -> None:
    """allauth's `user.authenticator_set.filter(...).exists()`: an annotation on the users
    would only serve code that reads it, and no project line reads these rows."""
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "backends.py").write_text(
        "def get_user(pk):\n    return User.objects.get(pk=pk)\n"
    )
    finding = replace(
        FINDING,
        model="auth.User",
        callsite=None,
        origin=CallSite("core/backends.py", 2, "get_user"),
        fix=Fix(
            "annotate",
            '.annotate(has_authenticator_set=Exists(Authenticator.objects.filter(user=OuterRef("pk"))))',
        ),
    )
    path, outcome = service(tmp_path, {})._plan(finding)
    assert (path, outcome.status, outcome.reason) == (
        None,
        "not_fixable",
        "the fix is an annotation the per-row code must read instead of the relation, and that "
        "code is a library's (no project line runs the queries)",
    )


def test_lazy_relation_findings_are_fixed_after_the_n_plus_ones_and_selectable_by_id() -> None:
    from perftoolkit.core.runs.run import AuditRun
    from perftoolkit.fix.service import _selected

    lazy = Finding(
        kind="lazy_relation",
        method="GET",
        route="orders/<int:pk>/",
        message="Lazy read",
        model="shop.Order",
        path="customer__address",
        fix=Fix("select_related", '.select_related("customer__address")'),
    )
    n_plus_one = replace(lazy, kind="n_plus_one", route="orders/", message="N+1")
    # rows that each load the same related row: the fix is the N+1's select_related, not written
    shared = replace(lazy, kind="duplicate_query", message="twice")
    repeated = replace(
        shared,
        path=None,
        callsite=CallSite("shop/access.py", 9, "roles"),
        fix=Fix("cache", "compute the result in roles() and reuse it"),
    )
    run = AuditRun("", "", "", True, {}, (), (), (repeated, lazy, shared, n_plus_one))
    assert _selected(run, ()) == [n_plus_one, lazy, repeated]
    assert _selected(run, (lazy.id,)) == [lazy]
    with pytest.raises(
        ConfigurationError, match="not the id of an N\\+1, lazy-relation or duplicate-query"
    ):
        _selected(run, (shared.id,))


def test_the_summary_counts_each_way_a_fixable_finding_was_left() -> None:
    from perftoolkit.fix.options import FixOptions
    from perftoolkit.fix.service import FixResult, summary

    def outcome(status: str) -> FixOutcome:
        return FixOutcome("f", "GET", "r/", "a.py", 1, ".x()", status, "")  # type: ignore[arg-type]

    statuses = ["verified", "covered", "rejected", "unplaceable", "unplaceable", "not_fixable"]
    result = FixResult([outcome(s) for s in statuses], "", written=[Path("p.patch")])
    assert summary(result, FixOptions()) == (
        "2 of 5 fixable findings verified (1 edit kept, 1 reverted edit, 2 unplaceable findings, "
        "1 without an exact fix or origin); patch: p.patch."
    )


def test_a_report_moved_away_from_its_record_directory_is_a_clear_error(tmp_path: Path) -> None:
    import shutil

    from perftoolkit.core.runs.run import AuditRun
    from perftoolkit.exceptions import ReportFormatError
    from perftoolkit.fix.options import FixOptions
    from perftoolkit.fix.service import run_fix
    from perftoolkit.reporting.schema import write_run

    (tmp_path / "rec").mkdir()
    built = tmp_path / "report.json"
    write_run(AuditRun("", "", "", True, {}, (), (), (), record_dir=str(tmp_path / "rec")), built)
    moved = tmp_path / "elsewhere" / "report.json"
    moved.parent.mkdir()
    shutil.copy(built, moved)
    with pytest.raises(ReportFormatError) as raised:
        run_fix(FixOptions(report=moved), settings_module="tests.settings")
    assert str(raised.value).startswith(
        f"{moved}: its record directory {tmp_path / 'elsewhere' / 'rec'} does not exist. A report "
        "names its record directory relative to its own file"
    )


DUPLICATE = Finding(
    kind="duplicate_query",
    method="GET",
    route="api/plans/",
    message="The same query with the same parameters ran 2 times",
    fingerprint="f1",
    callsite=CallSite("plans/access.py", 2, "roles"),
    fix=Fix("cache", "compute the result in roles() and reuse it"),
)


def _profile(*sites: CallSite) -> RequestProfile:
    queries = tuple(QueryEvent("SELECT 1", "f1", 1.0, callsite=s) for s in sites)
    return RequestProfile("GET", "api/plans/", queries=queries)


@pytest.mark.parametrize(
    ("source", "sites", "reason"),
    [
        (
            "def roles(user):\n    return list(Group.objects.filter(user=user))\n",
            [CallSite("plans/access.py", 2, "roles")] * 2,
            None,
        ),
        (
            "def roles(user, site):\n    return list(Group.objects.filter(user=user))\n",
            [CallSite("plans/access.py", 2, "roles")] * 2,
            "the fix is advice: roles() takes more than one argument, so there is no one object "
            "its result belongs to",
        ),
        (
            "def roles(user):\n    return list(Group.objects.filter(user=user))\n",
            [CallSite("plans/access.py", 2, "roles"), CallSite("plans/views.py", 7, "index")],
            "the fix is advice: the query runs from 2 places (plans/access.py:2, "
            "plans/views.py:7): keep one result where they can all reach it",
        ),
    ],
)
def test_a_duplicate_query_is_fixed_only_in_one_function_that_can_keep_its_result(
    tmp_path: Path, source: str, sites: list[CallSite], reason: str | None
) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "access.py").write_text(source)
    run = service(tmp_path, {})
    run.profiles = [_profile(*sites)]
    run.state.sources, run.state.originals = {}, {}  # type: ignore[attr-defined]
    path, outcome = run._plan(run._placed(DUPLICATE))
    if reason is None:
        assert (path, outcome.file, outcome.line) == (
            tmp_path / "plans" / "access.py",
            "plans/access.py",
            2,
        )
    else:
        assert (path, outcome.status, outcome.reason) == (None, "not_fixable", reason)


def test_a_duplicate_query_of_a_template_is_advice() -> None:
    finding = replace(DUPLICATE, callsite=CallSite("templates/base.html", 27, ""))
    run = object.__new__(_Service)
    path, outcome = run._plan(run._placed(finding))
    assert (path, outcome.status, outcome.reason) == (
        None,
        "not_fixable",
        "the fix is advice: no function of the project runs the query (templates/base.html)",
    )


@pytest.mark.parametrize(
    ("code", "reason", "renamed"),
    [
        (
            '.annotate(types_count=Count("types"))',
            'the queryset already annotates types_count as Count("types", filter=Q(types__open=True))',
            '.annotate(types_count_2=Count("types"))',
        ),
        (
            '.annotate(types_count_2=Count("types"))',
            'the queryset already annotates types_count_2 as Count("types", filter=Q(a=1))',
            '.annotate(types_count_3=Count("types"))',
        ),
        ('.select_related("author")', "no queryset of Book is built on this line", None),
        (
            '.annotate(types_count_5=Count("types"))',
            'the queryset already annotates types_count_5 as Count("x")',
            None,
        ),
    ],
)
def test_a_count_whose_name_another_count_took_takes_the_next(
    code: str, reason: str, renamed: str | None
) -> None:
    from perftoolkit.fix.service import _renamed

    assert _renamed(code, reason) == renamed

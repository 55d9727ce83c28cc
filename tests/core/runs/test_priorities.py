"""Fix first: findings grouped by root cause, ranked by what fixing each saves × traffic."""

from __future__ import annotations

from perftoolkit.core.events import CallSite
from perftoolkit.core.findings import Finding, Fix
from perftoolkit.core.runs.priorities import EndpointShare, fix_first, run_fix_first
from tests.support.runs import before_run

SERIALIZER = CallSite("lms/serializers.py", 48, "CourseSerializer.instructor")
VIEW = CallSite("lms/views.py", 20, "CourseList.get_queryset")
SELECT = Fix("select_related", '.select_related("instructor__user")')


def nplusone(route: str, repeats: int, **changes: object) -> Finding:
    values: dict[str, object] = {
        "kind": "n_plus_one",
        "method": "GET",
        "route": route,
        "message": "N+1",
        "model": "lms.Course",
        "field": "instructor",
        "path": "instructor__user",
        "repeats": repeats,
        "fingerprint": "f-user",
        "callsite": SERIALIZER,
        "origin": VIEW,
        "fix": SELECT,
    }
    values.update(changes)
    return Finding(**values)  # type: ignore[arg-type]


def test_one_cause_on_two_endpoints_is_one_item_with_both() -> None:
    findings = [nplusone("api/courses/", 20), nplusone("api/courses/mine/", 5)]

    plan = fix_first(
        findings, {"GET api/courses/": 100, "GET api/courses/mine/": 10}, {}, mean_ms=0.5
    )

    [item] = plan.items
    assert item.endpoints == (
        EndpointShare("GET api/courses/", 100, 20.0, 10.0),
        EndpointShare("GET api/courses/mine/", 10, 5.0, 2.5),
    )
    assert (item.queries_saved, item.ms_saved) == (2050.0, 1025.0)
    assert plan.unexplained == ()


def test_duplicates_and_budget_excess_join_the_nplusone_that_causes_them() -> None:
    cause = nplusone("api/courses/", 20)
    duplicate = Finding(
        "duplicate_query", "GET", "api/courses/", "dup", repeats=3, fingerprint="f-user"
    )
    budget = Finding("budget_exceeded", "GET", "api/courses/", "over: queries 26 > 6")
    elsewhere = Finding("budget_exceeded", "GET", "api/other/", "over: queries 9 > 6")

    plan = fix_first(
        [cause, duplicate, budget, elsewhere], {"GET api/courses/": 10}, {}, mean_ms=None
    )

    [item] = plan.items
    assert item.findings == (cause, duplicate, budget)
    assert item.consequences == (duplicate, budget)
    # 20 per-row queries and 2 of the 3 duplicate runs, per request, for 10 requests.
    assert (item.queries_saved, item.ms_saved) == (220.0, None)
    assert plan.unexplained == (elsewhere,)


def test_items_rank_by_queries_saved_times_traffic_then_time() -> None:
    busy = nplusone("api/courses/", 5, fingerprint="f-busy")  # 5 × 1,000 requests
    heavy = nplusone("api/report/", 50, fingerprint="f-heavy", callsite=VIEW)  # 50 × 10
    prefetch = nplusone(
        "api/tags/",
        50,
        fingerprint="f-tags",
        fix=Fix("prefetch_related", '.prefetch_related("tags")'),
        callsite=CallSite("lms/views.py", 90, "tags"),
    )  # 49 × 10: the prefetch itself is one query
    traffic = {"GET api/courses/": 1000, "GET api/report/": 10, "GET api/tags/": 10}

    plan = fix_first([heavy, prefetch, busy], traffic, {}, mean_ms=1.0)

    assert [(i.lead.route, i.queries_saved, i.ms_saved) for i in plan.items] == [
        ("api/courses/", 5000.0, 5000.0),
        ("api/report/", 500.0, 500.0),
        ("api/tags/", 490.0, 490.0),
    ]


def test_time_breaks_a_tie_in_queries_and_a_slow_statement_does_not_jump_the_queue() -> None:
    slow = nplusone("api/a/", 4, fingerprint="f-slow")
    fast = nplusone("api/b/", 40, fingerprint="f-fast", callsite=VIEW)
    twin = nplusone("api/c/", 4, fingerprint="f-twin", callsite=SERIALIZER, origin=None)
    traffic = {"GET api/a/": 1, "GET api/b/": 1, "GET api/c/": 1}

    plan = fix_first([twin, fast, slow], traffic, {"f-slow": 100.0}, mean_ms=0.1)

    assert [i.lead.route for i in plan.items] == ["api/b/", "api/a/", "api/c/"]


def test_budget_excess_goes_to_the_cause_that_saves_most_on_its_endpoint() -> None:
    write = Finding("write_on_read", "GET", "api/me/", "write", repeats=1, fingerprint="f-w")
    n1 = nplusone("api/me/", 12, fingerprint="f-n1")
    budget = Finding("budget_exceeded", "GET", "api/me/", "over budget: queries 14 > 3")

    plan = fix_first([write, n1, budget], {"GET api/me/": 1}, {"f-w": 500.0}, mean_ms=0.1)

    assert [(i.lead.kind, [f.kind for f in i.consequences]) for i in plan.items] == [
        ("n_plus_one", ["budget_exceeded"]),
        ("write_on_read", []),
    ]


def test_the_sample_runs_fixes_come_first_by_traffic() -> None:
    plan = run_fix_first(before_run())

    assert [(i.lead.kind, i.lead.route) for i in plan.items] == [
        ("n_plus_one", "api/courses/"),
        ("n_plus_one", "api/instructor/courses/"),
        ("n_plus_one", "api/courses/<int:pk>/"),
        ("duplicate_query", "api/campaigns/"),
        ("write_on_read", "api/auth/profile/"),
    ]

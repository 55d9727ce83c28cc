"""Hand-made audit runs for report tests and the README screenshots (no Django, no server).

`before_run()` / `after_run()` look like an audit of the sample project before and after its
fixes; `hostile_run()` puts markup and script in every attacker-controlled string.
Runs go through `build_run` like real recordings; findings come from a stub detector so their
text is exactly what the tests assert on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from perftoolkit.core.budgets.rules import Budgets, EndpointBudget, Limits, apply_budgets, evaluate
from perftoolkit.core.events import CacheStats, CallSite, QueryEvent, RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding, Fix, IndexAdvice
from perftoolkit.core.fingerprint import fingerprint
from perftoolkit.core.runs.loadstats import LoadEntry, LoadStats
from perftoolkit.core.runs.run import AuditRun, BudgetStatus, build_run

T0 = 1_795_000_000.0  # 2026-11-18T11:06:40Z
ENVIRONMENT = {"database": "sqlite", "django": "5.2.19", "perftoolkit": "0.1.0", "python": "3.11.2"}


@dataclass(frozen=True)
class Endpoint:
    """What every recorded request of one endpoint did."""

    method: str
    route: str
    queries: Sequence[int]  # per request, cycled over `requests`
    requests: int
    latency: tuple[float, float, float] | None = None  # Locust p50/p95/p99; None: not load-tested
    view: str = ""
    table: str = "app_row"
    duplicates: int = 0
    cache: tuple[int, int] = (0, 0)  # gets, hits per request
    budget: BudgetStatus = field(default_factory=BudgetStatus)
    findings: Sequence[Finding] = ()
    failures: int = 0
    durations: Sequence[float] = ()  # server-side ms per request, cycled; default 10 + queries


def profiles(endpoint: Endpoint, *, start: float = T0) -> list[RequestProfile]:
    """`requests` profiles: one list query, then per-row queries up to the request's count."""
    base = f'SELECT "{endpoint.table}"."id" FROM "{endpoint.table}" LIMIT %s'
    row = (
        f'SELECT "{endpoint.table}"."id" FROM "{endpoint.table}" WHERE "{endpoint.table}"."id" = %s'
    )
    site = CallSite(f"{endpoint.table.split('_')[0]}/views.py", 42, "get")
    result = []
    for n in range(endpoint.requests):
        count = endpoint.queries[n % len(endpoint.queries)]
        events = [QueryEvent(base, fingerprint(base), 0.5, callsite=site, params_key="list")]
        for i in range(count - 1):
            key = "dup" if endpoint.duplicates and i <= endpoint.duplicates else f"row{i}"
            events.append(QueryEvent(row, fingerprint(row), 0.25, callsite=site, params_key=key))
        gets, hits = endpoint.cache
        result.append(
            RequestProfile(
                method=endpoint.method,
                route=endpoint.route,
                view=endpoint.view,
                status=200,
                started_at=start + n,
                duration_ms=(
                    endpoint.durations[n % len(endpoint.durations)]
                    if endpoint.durations
                    else 10.0 + count
                ),
                queries=tuple(events),
                cache=CacheStats(gets, hits),
            )
        )
    return result


def make_run(
    label: str,
    endpoints: Sequence[Endpoint],
    *,
    load: bool = True,
    complete: bool = True,
    notes: Sequence[str] = (),
    indexes: Sequence[IndexAdvice] = (),
    duration_s: float = 65.0,
    start: float = T0,
) -> AuditRun:
    """build_run over the endpoints' profiles, with a LoadStats from their latencies."""
    by_route = {(e.method, e.route): e for e in endpoints}

    def stub_detector(profile: RequestProfile, options: DetectionOptions) -> list[Finding]:
        return list(by_route[profile.endpoint].findings)

    stats = _load_stats(endpoints, duration_s) if load else None
    run = build_run(
        [p for e in endpoints for p in profiles(e, start=start)],
        label=label,
        started_at=start,
        finished_at=start + duration_s,
        environment=ENVIRONMENT,
        detectors=[stub_detector],
        options=DetectionOptions(),
        load=stats,
        complete=complete,
        notes=notes,
    )
    budgeted = tuple(
        replace(e, budget=by_route[(e.method, e.route)].budget)
        if (e.method, e.route) in by_route
        else e
        for e in run.endpoints
    )
    return run.with_changes(endpoints=budgeted, indexes=tuple(indexes))


def _load_stats(endpoints: Sequence[Endpoint], duration_s: float) -> LoadStats:
    entries = tuple(
        LoadEntry(
            method=e.method,
            route=e.route,
            requests=e.requests,
            failures=e.failures,
            p50=e.latency[0],
            p95=e.latency[1],
            p99=e.latency[2],
            avg_ms=round(e.latency[0] * 1.1, 3),
            rps=round(e.requests / duration_s, 3),
        )
        for e in endpoints
        if e.latency is not None
    )
    requests = sum(e.requests for e in entries)
    total = LoadEntry(
        method="",
        route="Aggregated",
        requests=requests,
        failures=sum(e.failures for e in entries),
        p50=sorted(e.p50 for e in entries)[len(entries) // 2] if entries else 0.0,
        p95=max((e.p95 for e in entries), default=0.0),
        p99=max((e.p99 for e in entries), default=0.0),
        rps=round(requests / duration_s, 3),
    )
    return LoadStats(
        tool="locust",
        users=20,
        spawn_rate=5.0,
        run_time_s=60.0,
        workers=2,
        profiles=("smoke", "mixed"),
        entries=entries,
        total=total,
    )


def nplusone(
    method: str,
    route: str,
    *,
    model: str,
    path: str,
    repeats: int,
    file: str,
    line: int,
    action: str = "select_related",
    table: str = "auth_user",
) -> Finding:
    sql = f'SELECT "{table}"."id", "{table}"."name" FROM "{table}" WHERE "{table}"."id" = %s'
    return Finding(
        kind="n_plus_one",
        method=method,
        route=route,
        model=model,
        field=path.split("__")[0],
        path=path,
        repeats=repeats,
        fingerprint=fingerprint(sql),
        sql_example=sql,
        callsite=CallSite(file, line, "to_representation"),
        origin=CallSite(file.replace("serializers", "views"), line - 20, "get_queryset"),
        fix=Fix(action=action, code=f'.{action}("{path}")'),
        severity="error",
        message=(
            f"{model}.{path.split('__')[0]} is loaded once per row: {repeats} queries of the same "
            f"shape per request. Load it with the rows."
        ),
    )


COURSES = nplusone(
    "GET",
    "api/courses/",
    model="lms.Course",
    path="instructor__user",
    repeats=25,
    file="lms/serializers.py",
    line=48,
)
COURSE_REVIEWS = nplusone(
    "GET",
    "api/courses/<int:pk>/",
    model="lms.CourseReview",
    path="enrollment__user",
    repeats=14,
    file="lms/serializers.py",
    line=102,
)
INSTRUCTOR = nplusone(
    "GET",
    "api/instructor/courses/",
    model="lms.Course",
    path="enrollments",
    repeats=44,
    file="lms/views.py",
    line=131,
    action="annotate",
    table="lms_enrollment",
)
PROFILE_WRITE = Finding(
    kind="write_on_read",
    method="GET",
    route="api/auth/profile/",
    message="GET api/auth/profile/ writes to accounts_subscription (UPDATE) while reading.",
    model="accounts.Subscription",
    repeats=1,
    sql_example='UPDATE "accounts_subscription" SET "ai_usage_today" = %s WHERE "id" = %s',
    callsite=CallSite("accounts/models.py", 141, "ai_usage_today"),
    fix=Fix(
        action="move_write", code="reset the daily usage in a scheduled task, not in a property"
    ),
    severity="error",
)
CAMPAIGN_DUPLICATE = Finding(
    kind="duplicate_query",
    method="GET",
    route="api/campaigns/",
    message="The same query with the same parameters ran 3 times at campaigns/views.py:58.",
    model="campaigns.Advertiser",
    repeats=3,
    sql_example='SELECT "campaigns_advertiser"."id" FROM "campaigns_advertiser" WHERE "id" = %s',
    callsite=CallSite("campaigns/views.py", 58, "get_advertiser"),
    fix=Fix(action="cache", code="compute the result in get_advertiser() and reuse it"),
    severity="warning",
)
TASKS_NPLUSONE = nplusone(
    "GET",
    "api/projects/<int:pk>/tasks/",
    model="projects.Task",
    path="assignee",
    repeats=3,
    file="projects/serializers.py",
    line=77,
)

VERIFIED_INDEX = IndexAdvice(
    table="lms_enrollment",
    columns=("user_id", "course_id", "status"),
    status="verified",
    model="lms.Enrollment",
    reason="Filters on user, course and status in 3 queries; the planner switches from a scan to the index.",
    plan_before="SCAN lms_enrollment",
    plan_after="SEARCH lms_enrollment USING INDEX lms_enrollment_user_course_status (user_id=? AND course_id=?)",
    est_cost_before=1840.0,
    est_cost_after=12.5,
    migration=(
        'migrations.AddIndex(\n    model_name="enrollment",\n    index=models.Index(\n'
        '        fields=["user", "course", "status"], name="lms_enrollment_user_course_status"\n    ),\n)'
    ),
    queries=(
        fingerprint('SELECT "lms_enrollment"."id" FROM "lms_enrollment" WHERE "user_id" = %s'),
    ),
    name="lms_enrollment_user_course_status",
)
REJECTED_INDEX = IndexAdvice(
    table="campaigns_campaign",
    columns=("-created_at",),
    status="rejected",
    model="campaigns.Campaign",
    reason="The planner keeps its scan: the table has 40 rows.",
    plan_before="SCAN campaigns_campaign",
    plan_after="SCAN campaigns_campaign",
)

ok = BudgetStatus(limits={"queries": 6}, status="ok")


def over(limit: int) -> BudgetStatus:
    return BudgetStatus(limits={"queries": limit}, status="exceeded", exceeded=("queries",))


BEFORE = (
    Endpoint(
        "GET",
        "api/courses/",
        [26],
        40,
        (210.0, 640.0, 980.0),
        "lms.views.CourseViewSet",
        "lms_course",
        budget=over(6),
        findings=[COURSES],
        cache=(2, 1),
    ),
    Endpoint(
        "GET",
        "api/courses/<int:pk>/",
        [15, 16, 17],
        30,
        (120.0, 380.0, 560.0),
        "lms.views.CourseViewSet",
        "lms_coursereview",
        budget=over(6),
        findings=[COURSE_REVIEWS],
        cache=(2, 1),
    ),
    Endpoint(
        "GET",
        "api/auth/profile/",
        [8],
        25,
        (95.0, 300.0, 450.0),
        "accounts.views.ProfileView",
        "accounts_profile",
        findings=[PROFILE_WRITE],
        cache=(1, 0),
    ),
    Endpoint(
        "GET",
        "api/instructor/courses/",
        [45, 47],
        10,
        (480.0, 1300.0, 2100.0),
        "lms.views.InstructorCourses",
        "lms_enrollment",
        budget=over(8),
        findings=[INSTRUCTOR],
    ),
    Endpoint(
        "GET",
        "api/campaigns/",
        [12],
        20,
        (140.0, 420.0, 700.0),
        "campaigns.views.CampaignList",
        "campaigns_campaign",
        duplicates=2,
        findings=[CAMPAIGN_DUPLICATE],
        cache=(1, 1),
    ),
    Endpoint(
        "GET",
        "api/projects/<int:pk>/tasks/",
        [4],
        15,
        (60.0, 150.0, 210.0),
        "projects.views.TaskList",
        "projects_task",
        budget=ok,
    ),
    Endpoint(
        "POST",
        "api/auth/login/",
        [3],
        12,
        (180.0, 260.0, 300.0),
        "accounts.views.LoginView",
        "auth_user",
    ),
    Endpoint(
        "GET",
        "api/reports/legacy/",
        [6],
        5,
        (90.0, 200.0, 240.0),
        "reports.views.Legacy",
        "reports_row",
    ),
)
AFTER = (
    Endpoint(
        "GET",
        "api/courses/",
        [4],
        40,
        (70.0, 160.0, 240.0),
        "lms.views.CourseViewSet",
        "lms_course",
        budget=ok,
        cache=(2, 2),
    ),
    Endpoint(
        "GET",
        "api/courses/<int:pk>/",
        [3],
        30,
        (50.0, 120.0, 180.0),
        "lms.views.CourseViewSet",
        "lms_coursereview",
        budget=ok,
        cache=(2, 1),
    ),
    Endpoint(
        "GET",
        "api/auth/profile/",
        [2],
        25,
        (30.0, 80.0, 110.0),
        "accounts.views.ProfileView",
        "accounts_profile",
        cache=(1, 1),
    ),
    Endpoint(
        "GET",
        "api/instructor/courses/",
        [6],
        10,
        (150.0, 420.0, 700.0),
        "lms.views.InstructorCourses",
        "lms_enrollment",
        budget=ok,
    ),
    Endpoint(
        "GET",
        "api/campaigns/",
        [12],
        20,
        (140.0, 410.0, 690.0),
        "campaigns.views.CampaignList",
        "campaigns_campaign",
        duplicates=2,
        findings=[CAMPAIGN_DUPLICATE],
        cache=(1, 1),
    ),
    Endpoint(
        "GET",
        "api/projects/<int:pk>/tasks/",
        [4, 5],
        15,
        (60.0, 190.0, 260.0),
        "projects.views.TaskList",
        "projects_task",
        budget=over(4),
        findings=[TASKS_NPLUSONE],
    ),
    Endpoint(
        "POST",
        "api/auth/login/",
        [3],
        12,
        (170.0, 250.0, 290.0),
        "accounts.views.LoginView",
        "auth_user",
    ),
    Endpoint(
        "GET", "api/search/", [7], 8, (110.0, 240.0, 330.0), "search.views.Search", "search_entry"
    ),
)


def before_run() -> AuditRun:
    return make_run(
        "before",
        BEFORE,
        indexes=[VERIFIED_INDEX, REJECTED_INDEX],
        notes=["profiles smoke, mixed against SAMPLE_VARIANT=before"],
    )


def after_run() -> AuditRun:
    return make_run(
        "after",
        AFTER,
        notes=["profiles smoke, mixed against SAMPLE_VARIANT=after"],
        start=T0 + 3600,
    )


SCRIPT = "<script>alert('x')</script>"


def hostile_run() -> AuditRun:
    """Markup in every string a user's code or database controls."""
    finding = Finding(
        kind="n_plus_one",
        method="GET",
        route=f"api/{SCRIPT}/",
        model="evil.<b>Model</b>",
        field="x",
        path="x",
        repeats=5,
        fingerprint="f" * 16,
        sql_example=f'SELECT \'{SCRIPT}\' FROM "t" WHERE "a" = %s',
        callsite=CallSite(f"app/{SCRIPT}.py", 7, "<lambda>"),
        origin=CallSite("app/<img src=x onerror=alert(1)>.py", 3, "view"),
        fix=Fix(action="select_related", code=f'.select_related("{SCRIPT}")', note="<i>note</i>"),
        severity="error",
        message=f"Message with {SCRIPT} & <b>bold</b>",
    )
    endpoint = Endpoint(
        "GET",
        f"api/{SCRIPT}/",
        [5],
        3,
        (10.0, 20.0, 30.0),
        view="<img src=x onerror=alert(2)>",
        table="evil_table",
        findings=[finding],
    )
    index = replace(
        VERIFIED_INDEX,
        table=f"t{SCRIPT}",
        reason=f"reason {SCRIPT}",
        plan_before=f"SCAN {SCRIPT}",
        migration=f"migrations.AddIndex({SCRIPT})",
    )
    return make_run(
        f"label {SCRIPT}",
        [endpoint],
        indexes=[index],
        notes=[f"note {SCRIPT}"],
    ).with_changes(environment={"database": f"db {SCRIPT}", "python": "3.11"})


def judged_before_run() -> AuditRun:
    """`before_run()` as an audit writes it: judged against its budgets, so each endpoint over
    budget also has its `budget_exceeded` finding (the sample's run report)."""
    run = before_run()
    budgets = Budgets(
        endpoints=tuple(
            EndpointBudget(e.method, e.route, Limits(queries=int(e.budget.limits["queries"])))
            for e in run.endpoints
            if "queries" in e.budget.limits
        )
    )
    return apply_budgets(run, evaluate(run, budgets))

"""What differs between the variants besides query counts: indexes, sessions, caching, writes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign, CampaignPayout
from lms.access import auth_context_key, get_user_auth_context
from lms.indexes import SEED004_INDEXES
from lms.models import Course, Enrollment
from measure import count_queries

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ClientFor = Callable[[str | None], Client]
AFTER = settings.SAMPLE_VARIANT == "after"


def captured(client: Client, path: str) -> list[str]:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_perftoolkit_is_installed_as_its_readme_says() -> None:
    assert "perftoolkit" in settings.INSTALLED_APPS
    assert settings.MIDDLEWARE[0] == "perftoolkit.middleware.QueryBudgetMiddleware"
    assert settings.PERFTOOLKIT == {"MODE": "off"}


def test_sessions_are_cached_only_in_after() -> None:
    backend = "cached_db" if AFTER else "db"
    assert f"django.contrib.sessions.backends.{backend}" == settings.SESSION_ENGINE


def test_seed004_indexes_exist_only_in_after() -> None:
    names = set()
    with connection.cursor() as cursor:
        for model_name in SEED004_INDEXES:
            table = f"lms_{model_name}"
            names |= set(connection.introspection.get_constraints(cursor, table))

    expected = {index.name for index in SEED004_INDEXES.values()}
    assert (expected <= names) if AFTER else not (expected & names)


def test_migrations_match_the_models() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_profile_read_writes_only_in_before(client_for: ClientFor) -> None:
    client = client_for("student1")

    writes = [sql for sql in captured(client, "/api/auth/profile/") if sql.startswith("UPDATE")]

    if AFTER:
        assert writes == []
    else:  # seed 004: ai_usage_today resets the counter and saves on every read
        assert len(writes) == 1
        assert writes[0].startswith('UPDATE "lms_subscription"')


def test_exact_duplicate_queries_only_in_before(client_for: ClientFor) -> None:
    repeated = Counter(captured(client_for("student1"), "/api/auth/profile/"))

    duplicates = {sql for sql, n in repeated.items() if n > 1}

    if AFTER:
        assert not duplicates
    else:  # the roles and permissions asked twice, the user loaded again through the profile
        assert len(duplicates) == 3


def test_permission_context_is_cached_only_in_after(client_for: ClientFor) -> None:
    student = User.objects.get(username="student1")
    client_for("student1").get("/api/auth/profile/")

    assert (cache.get(auth_context_key(student.pk)) is not None) is AFTER
    assert get_user_auth_context(student).roles == {"student"}


def test_permission_lookup_costs_two_queries_or_one_cache_miss() -> None:
    student = User.objects.get(username="student1")
    costs = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            get_user_auth_context(student)
        costs.append(len(ctx.captured_queries))

    assert costs == ([1, 0] if AFTER else [2, 2])  # seed 004: "2 separate queries per request"


def test_role_change_drops_the_cached_context() -> None:
    student = User.objects.get(username="student1")
    get_user_auth_context(student)

    student.groups.add(Group.objects.get(name="instructor"))

    assert cache.get(auth_context_key(student.pk)) is None
    assert "view_dashboard" in get_user_auth_context(student).permissions


@pytest.mark.parametrize(
    ("username", "path", "fragments"),
    [
        (
            "admin1",
            "/api/users/recent/",
            ['ORDER BY "lms_userprofile"."last_login" DESC'],
        ),
        (
            "instructor1",
            "/api/media/?status=pending",
            ['"lms_mediafile"."processing_status" = ', 'ORDER BY "lms_mediafile"."created_at" ASC'],
        ),
        (
            "student1",
            "/api/enrollments/?course={course}&status=active",
            [
                '"lms_enrollment"."user_id" = ',
                '"lms_enrollment"."course_id" = ',
                '"lms_enrollment"."status" = ',
            ],
        ),
        (
            "student1",
            "/api/payments/?status=succeeded",
            ['"lms_paymentintent"."user_id" = ', '"lms_paymentintent"."payment_status" = '],
        ),
    ],
)
def test_index_endpoints_run_the_queries_seed004_indexes_serve(
    client_for: ClientFor, username: str, path: str, fragments: list[str]
) -> None:
    course = Enrollment.objects.filter(user__username="student1", status="active")
    path = path.format(course=course.order_by("id")[0].course_id)

    page_query = captured(client_for(username), path)[-1]

    assert all(fragment in page_query for fragment in fragments), page_query


def test_review_permission_check_filters_user_course_and_status(client_for: ClientFor) -> None:
    enrollment = Enrollment.objects.filter(status="active").order_by("id")[0]
    client = client_for(enrollment.user.username)

    with CaptureQueriesContext(connection) as ctx:
        client.post(
            f"/api/courses/{enrollment.course_id}/reviews/",
            {"rating": 3},
            content_type="application/json",
        )

    columns = ('"lms_enrollment"."user_id" = ', '"lms_enrollment"."course_id" = ')
    status = '"lms_enrollment"."status" = '
    assert any(
        all(c in q["sql"] for c in (*columns, status)) and q["sql"].endswith("LIMIT 1")
        for q in ctx.captured_queries
    )


@pytest.mark.parametrize(
    ("path", "shrink"),
    [
        ("/api/campaigns/", lambda: Campaign.objects.filter(pk__gt=5).delete()),
        (
            "/api/campaigns/{campaign}/payouts/",
            lambda: CampaignPayout.objects.exclude(pk__in=range(1, 6)).delete(),
        ),
    ],
)
def test_query_count_grows_with_rows_only_in_before(
    client_for: ClientFor, path: str, shrink: Callable[[], object]
) -> None:
    campaign = Campaign.objects.order_by("id")[0].pk
    client = client_for("advertiser1")
    _, full_page = count_queries(client, path.format(campaign=campaign))

    shrink()
    _, five_rows = count_queries(client, path.format(campaign=campaign))

    if AFTER:
        assert full_page == five_rows
    else:
        assert full_page > five_rows + 10


def test_catalog_page_lists_published_courses(client_for: ClientFor) -> None:
    response = client_for(None).get("/catalog/")

    assert response.status_code == 200
    first = Course.objects.filter(is_published=True).order_by("-published_at")[0]
    assert f'id="course-{first.pk}"' in response.content.decode()

"""Every documented GET endpoint: status, exact query count, the issue's table, and a payload
that is the same in both variants.

Payloads: both variants (and both databases) must return byte-for-byte the same data, because
the optimisation must not change the API. Rather than run the two variants side by side (they
need different settings and databases), each session compares its responses with one golden
file per endpoint under tests/golden/. The seed is deterministic (fixed random seed, fixed
clock, fixed ids), so one file serves all four sessions. After an intended API change, rewrite
them with `SAMPLE_UPDATE_GOLDEN=1 make test-sample` and review the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client

from campaigns.models import Campaign
from lms.models import Enrollment
from lms.views.courses import published_courses
from measure import count_queries

GOLDEN = Path(__file__).parent / "golden"

# name → (user, path); {course}, {campaign} and {enrolled_course} are filled from the data.
ENDPOINTS: dict[str, tuple[str | None, str]] = {
    "courses": (None, "/api/courses/"),
    "course_detail": (None, "/api/courses/{course}/"),
    "instructor_courses": ("instructor1", "/api/instructor/courses/"),
    "auth_profile": ("student1", "/api/auth/profile/"),
    "campaigns": ("advertiser1", "/api/campaigns/"),
    "campaign_payouts": ("advertiser1", "/api/campaigns/{campaign}/payouts/"),
    "projects": ("manager1", "/api/projects/"),
    "users_recent": ("admin1", "/api/users/recent/"),
    "media_pending": ("instructor1", "/api/media/?status=pending"),
    "enrollments": ("student1", "/api/enrollments/?course={enrolled_course}&status=active"),
    "payments": ("student1", "/api/payments/?status=succeeded"),
    "courses_as_student": ("student1", "/api/courses/"),
    "categories": (None, "/api/categories/"),
    "course_reviews": (None, "/api/courses/{course}/reviews/"),
    "catalog": (None, "/catalog/"),
}

# Queries per request after one warm-up, small data. One number per endpoint so that any change
# is noticed; SQLite and PostgreSQL run the same statements, so one table serves both.
EXPECTED_QUERIES: dict[str, dict[str, int]] = {
    "before": {
        "courses": 102,
        "course_detail": 16,
        "instructor_courses": 88,
        "auth_profile": 11,
        "campaigns": 84,
        "campaign_payouts": 42,
        "projects": 104,
        "users_recent": 6,
        "media_pending": 6,
        "enrollments": 6,
        "payments": 6,
        "courses_as_student": 124,
        "categories": 57,
        "course_reviews": 7,
        "catalog": 41,
    },
    "after": {
        "courses": 3,
        "course_detail": 3,
        "instructor_courses": 3,
        "auth_profile": 2,
        "campaigns": 4,
        "campaign_payouts": 4,
        "projects": 4,
        "users_recent": 3,
        "media_pending": 3,
        "enrollments": 3,
        "payments": 3,
        "courses_as_student": 4,
        "categories": 3,
        "course_reviews": 3,
        "catalog": 1,
    },
}

# The issue's table (from seed 004's measured numbers): floors for `before`, ceilings for `after`.
BEFORE_AT_LEAST = {
    "courses": 26,
    "course_detail": 15,
    "instructor_courses": 45,
    "auth_profile": 8,
    "projects": 50,
}
AFTER_AT_MOST = {
    "courses": 4,
    "course_detail": 3,
    "instructor_courses": 6,
    "auth_profile": 2,
    "campaigns": 4,
    "campaign_payouts": 4,
    "projects": 5,
}


@pytest.fixture
def ids(db: None) -> dict[str, int]:
    student1 = User.objects.get(username="student1")
    return {
        "course": published_courses().values_list("pk", flat=True)[0],
        "campaign": Campaign.objects.filter(account__owner__username="advertiser1")
        .order_by("-created_at", "id")
        .values_list("pk", flat=True)[0],
        "enrolled_course": Enrollment.objects.filter(user=student1, status="active")
        .order_by("id")
        .values_list("course_id", flat=True)[0],
    }


def body(response: HttpResponse) -> object:
    content_type = response["Content-Type"]
    text = response.content.decode()
    return json.loads(text) if content_type.startswith("application/json") else text


def check_golden(name: str, payload: object) -> None:
    path = GOLDEN / (f"{name}.json" if not isinstance(payload, str) else f"{name}.html")
    if os.environ.get("SAMPLE_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        text = payload if isinstance(payload, str) else json.dumps(payload, indent=1) + "\n"
        path.write_text(text)
    assert path.exists(), f"no golden file {path.name}: run with SAMPLE_UPDATE_GOLDEN=1 once"
    expected = path.read_text() if isinstance(payload, str) else json.loads(path.read_text())
    assert payload == expected, f"{name}: payload differs from {path.name}"


@pytest.mark.postgres
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_endpoint_queries_and_payload(
    name: str, client_for: Callable[[str | None], Client], ids: dict[str, int]
) -> None:
    user, template = ENDPOINTS[name]
    response, queries = count_queries(client_for(user), template.format(**ids))
    variant = settings.SAMPLE_VARIANT

    assert response.status_code == 200
    assert queries == EXPECTED_QUERIES[variant][name]
    if variant == "before":
        assert queries >= BEFORE_AT_LEAST.get(name, 0)
        if name in AFTER_AT_MOST:  # "grows with rows": well above the fixed version
            assert queries > AFTER_AT_MOST[name] + 2
    else:
        assert queries <= AFTER_AT_MOST.get(name, queries)
    check_golden(name, body(response))


PARTIAL_PAGES = {"enrollments", "course_reviews"}  # one enrollment per course; a few reviews


@pytest.mark.postgres
@pytest.mark.parametrize("name", [n for n in ENDPOINTS if n != "catalog"])
def test_lists_are_paginated(
    name: str, client_for: Callable[[str | None], Client], ids: dict[str, int]
) -> None:
    user, template = ENDPOINTS[name]
    payload = body(client_for(user).get(template.format(**ids)))
    assert isinstance(payload, dict)
    if name in ("course_detail", "auth_profile"):
        assert "id" in payload
        return
    assert list(payload) == ["count", "next", "previous", "results"]
    assert all("id" in row for row in payload["results"])
    if name not in PARTIAL_PAGES:
        assert len(payload["results"]) == 20
        assert payload["next"] is not None

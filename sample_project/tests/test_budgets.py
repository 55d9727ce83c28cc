"""perf-budgets.toml (recorded from `after`) against each variant, as CI would run it.

Every GET endpoint of the README's table is requested as its user, first as the user's first
request after logging in, then warm, with perftoolkit recording; the recording becomes a report and `manage.py perf_budget check`
judges it: `after` passes, `before` fails with exit 3 naming every endpoint and its fix, and one
query more in a view fails it. `SAMPLE_UPDATE_BUDGETS=1` (in the `after` session) records the
file again from the same requests, keeping its comments.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client
from perftoolkit.conf import RECORD_DIR_ENV, reset_settings
from perftoolkit.core.budgets.rules import top_findings
from perftoolkit.middleware.detectors import detection_options, detectors
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.schema import read_run, write_run

from campaigns.models import Campaign
from lms.models import Category, Enrollment
from lms.views.courses import CourseList, published_courses
from test_endpoints import ENDPOINTS

BUDGETS = Path(settings.BASE_DIR) / "perf-budgets.toml"
# The seeds' documented endpoints: `before` must be told a fix for each.
DOCUMENTED = (
    "GET api/auth/profile/",
    "GET api/campaigns/",
    "GET api/campaigns/<int:pk>/payouts/",
    "GET api/courses/",
    "GET api/courses/<int:pk>/",
    "GET api/instructor/courses/",
    "GET api/projects/",
)

variant = settings.SAMPLE_VARIANT
only_after = pytest.mark.skipif(variant != "after", reason="the budgets were recorded from `after`")
only_before = pytest.mark.skipif(variant != "before", reason="`before` is what the budgets catch")

Requests = list[tuple[str | None, str]]


@pytest.fixture
def record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_for: Callable[[str | None], Client]
) -> Iterator[Callable[[Requests], Path]]:
    """Request (user, path) pairs with recording on, each as the user's first request after
    logging in (no roles or permissions cached yet), then again warm; returns the report's
    path."""

    def run(requests: Requests) -> Path:
        directory = tmp_path / "rec"
        monkeypatch.setenv(RECORD_DIR_ENV, str(directory))
        reset_settings()
        for user, path in requests:
            cache.clear()
            client = client_for(user)  # logging in caches the session again
            for _ in range(2):
                assert client.get(path).status_code == 200, path
        monkeypatch.delenv(RECORD_DIR_ENV)
        reset_settings()
        report = tmp_path / "report.json"
        write_run(
            build_report(directory, detectors=detectors(), options=detection_options()), report
        )
        return report

    yield run
    reset_settings()


# Anonymous endpoints are also read by logged-in users, who cost one query more (their row).
LOGGED_IN_TOO = (
    "/api/courses/{course}/",
    "/api/courses/{course}/reviews/",
    "/api/categories/",
    "/catalog/",
)


@pytest.fixture
def every_endpoint(db: None) -> Requests:
    """README's GET endpoints, each as its user (tests/test_endpoints.py's table), and the
    anonymous ones as student1 too."""
    student1 = User.objects.get(username="student1")
    ids = {
        "course": published_courses().values_list("pk", flat=True)[0],
        "campaign": Campaign.objects.filter(account__owner__username="advertiser1")
        .order_by("-created_at", "id")
        .values_list("pk", flat=True)[0],
        "enrolled_course": Enrollment.objects.filter(user=student1, status="active")
        .order_by("id")
        .values_list("course_id", flat=True)[0],
    }
    requests = [*ENDPOINTS.values(), *(("student1", path) for path in LOGGED_IN_TOO)]
    return [(user, path.format(**ids)) for user, path in requests]


def check(report: Path) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command(
            "perf_budget", "check", "--report", str(report), "--budgets", str(BUDGETS), stdout=out
        )
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def rows(out: str) -> dict[str, list[str]]:
    """The check's table: endpoint → cells of its first line."""
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0].startswith("GET "):
            found[cells[0]] = cells
    return found


@only_after
def test_after_passes_its_budgets(record: Any, every_endpoint: Requests) -> None:
    report = record(every_endpoint)
    if os.environ.get("SAMPLE_UPDATE_BUDGETS"):
        call_command("perf_budget", "record", "--report", str(report), "--budgets", str(BUDGETS))
    assert check(report) == (0, "All 14 budgeted endpoints within budget (perf-budgets.toml)\n")


@only_before
def test_before_fails_naming_each_endpoint_and_its_fix(
    record: Any, every_endpoint: Requests
) -> None:
    report = record(every_endpoint)
    code, out = check(report)
    assert code == 3
    failed = rows(out)
    budgeted = {
        line.split('"')[1]
        for line in BUDGETS.read_text().splitlines()
        if line.startswith("[endpoints.")
    }
    assert sorted(failed) == sorted(budgeted)
    run = read_run(report)
    for key in DOCUMENTED:
        method, route = key.split(" ", 1)
        top = top_findings(run, method, route)[0]
        assert top.fix is not None, key
        # The table shows the top finding's fix (folded onto more lines when long).
        assert failed[key][6] != "–", key
        assert top.fix.code.startswith(failed[key][6]), key
    assert out.splitlines()[-1] == "14 of 14 budgeted endpoints over budget (perf-budgets.toml)"


@only_after
def test_one_more_query_in_a_view_fails(record: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    original = CourseList.get_queryset

    def one_more(self: CourseList) -> Any:
        Category.objects.exists()
        return original(self)

    monkeypatch.setattr(CourseList, "get_queryset", one_more)
    code, out = check(record([("student1", "/api/courses/")]))
    assert code == 3
    assert rows(out)["GET api/courses/"][:5] == ["GET api/courses/", "queries", "4", "5", "+1"]

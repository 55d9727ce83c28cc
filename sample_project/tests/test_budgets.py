"""perf-budgets.toml (recorded from `after`) against each variant, as CI would run it.

The documented endpoints are requested the way the acceptance check does (one cold request,
then one warm, per endpoint) with perftoolkit recording them; the recording becomes a report and
`manage.py perf_budget check` judges it: `after` passes, `before` fails with exit 3 naming every
endpoint and its fix, and one query more in a view fails it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from perftoolkit.analysis import detection_options, detectors
from perftoolkit.conf import RECORD_DIR_ENV, reset_settings
from perftoolkit.recording import build_report
from perftoolkit.reporting.schema import write_run

from lms.models import Category
from lms.views.courses import CourseList

BUDGETS = Path(settings.BASE_DIR) / "perf-budgets.toml"
# Every endpoint of the budget file, with the fix `before` is told to make there.
BEFORE_FIXES = {
    "GET api/auth/profile/": "compute the result in get_user_roles() and reuse it",
    "GET api/campaigns/": '.annotate(payout_count=Count("payouts"))',
    "GET api/campaigns/<int:pk>/payouts/": "compute the result in CampaignPayoutSerializer.campaign()",
    "GET api/courses/": '.prefetch_related("tags")',
    "GET api/courses/<int:pk>/": '.annotate(lesson_count=Count("lessons"))',
    "GET api/instructor/courses/": '.select_related("category")',
    "GET api/projects/": '.prefetch_related("members")',
}

variant = settings.SAMPLE_VARIANT
only_after = pytest.mark.skipif(variant != "after", reason="the budgets were recorded from `after`")
only_before = pytest.mark.skipif(variant != "before", reason="`before` is what the budgets catch")


@pytest.fixture
def record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_for: Callable[[str | None], Client]
) -> Iterator[Callable[[list[tuple[str | None, str]]], Path]]:
    """Request (user, path) pairs, cold then warm, with recording on; returns the report path."""

    def run(requests: list[tuple[str | None, str]]) -> Path:
        directory = tmp_path / "rec"
        monkeypatch.setenv(RECORD_DIR_ENV, str(directory))
        reset_settings()
        for user, path in requests:
            client = client_for(user)
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


def documented(client_for: Callable[[str | None], Client]) -> list[tuple[str | None, str]]:
    course = Client().get("/api/courses/").json()["results"][0]["id"]
    campaign = client_for("advertiser1").get("/api/campaigns/").json()["results"][0]["id"]
    return [
        (None, "/api/courses/"),
        (None, f"/api/courses/{course}/"),
        ("instructor1", "/api/instructor/courses/"),
        ("student1", "/api/auth/profile/"),
        ("advertiser1", "/api/campaigns/"),
        ("advertiser1", f"/api/campaigns/{campaign}/payouts/"),
        ("manager1", "/api/projects/"),
    ]


def check(report: Path) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command(
            "perf_budget", "check", "--report", str(report), "--budgets", str(BUDGETS), stdout=out
        )
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


@only_after
def test_after_passes_its_budgets(record: Any, client_for: Callable[[str | None], Client]) -> None:
    code, out = check(record(documented(client_for)))
    assert (code, out) == (0, "All 7 budgeted endpoints within budget (perf-budgets.toml)\n")


@only_before
def test_before_fails_naming_each_endpoint_and_its_fix(
    record: Any, client_for: Callable[[str | None], Client]
) -> None:
    code, out = check(record(documented(client_for)))
    assert code == 3
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│ GET api/" in line}
    assert sorted(rows) == sorted(BEFORE_FIXES)
    for key, fix in BEFORE_FIXES.items():
        assert fix in rows[key], key
    assert out.splitlines()[-1] == "7 of 7 budgeted endpoints over budget (perf-budgets.toml)"


@only_after
def test_one_more_query_in_a_view_fails(record: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    original = CourseList.get_queryset

    def one_more(self: CourseList) -> Any:
        Category.objects.exists()
        return original(self)

    monkeypatch.setattr(CourseList, "get_queryset", one_more)
    code, out = check(record([(None, "/api/courses/")]))
    assert code == 3
    (row,) = [line for line in out.splitlines() if "│ GET api/courses/" in line]
    assert [cell.strip() for cell in row.split("│")[1:6]] == [
        "GET api/courses/",
        "queries",
        "3",
        "4",
        "+1",
    ]

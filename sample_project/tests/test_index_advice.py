"""Seed 004's four missing indexes, found from the requests that need them and verified by
SQLite's planner on `before`; on `after`, where the models declare them, they already exist.

SQLite's planner has no statistics to weigh table sizes, so the small data set shows the same
plans as a large one; PostgreSQL's cost model needs `seed_sample --size medium` (see the README).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from perftoolkit.conf import reset_settings
from perftoolkit.core.findings import IndexAdvice
from perftoolkit.indexes.adviser import advise
from perftoolkit.middleware.recording import build_report

SEED004 = {
    "lms_userprofile": ("-last_login",),
    "lms_mediafile": ("processing_status", "created_at"),
    "lms_enrollment": ("user_id", "course_id", "status"),
    "lms_paymentintent": ("user_id", "payment_status"),
}


@pytest.fixture
def recorded(
    client_for: Callable[[str | None], Client], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    record_dir = tmp_path / "record"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(record_dir))
    reset_settings()
    student = client_for("student1")
    course = student.get("/api/enrollments/").json()["results"][0]["course"]
    for user, path in [
        ("admin1", "/api/users/recent/"),
        ("instructor1", "/api/media/?status=pending"),
        ("student1", f"/api/enrollments/?course={course}&status=active"),
        ("student1", "/api/payments/?status=succeeded"),
    ]:
        assert client_for(user).get(path).status_code == 200
    monkeypatch.delenv("PERFTOOLKIT_RECORD_DIR")
    reset_settings()
    return record_dir


def seed004(advice: list[IndexAdvice]) -> dict[str, tuple[str, tuple[str, ...]]]:
    found = {}
    for item in advice:
        wanted = SEED004.get(item.table)
        if wanted and sorted(c.lstrip("-") for c in item.columns) == sorted(
            c.lstrip("-") for c in wanted
        ):
            found.setdefault(item.table, (item.status, item.columns))
    return found


def test_index_advice_seed004(db: None, recorded: Path) -> None:
    advice = advise(build_report(recorded), min_rows=0)
    found = seed004(advice)
    if settings.SAMPLE_VARIANT == "before":
        assert found == {table: ("verified", columns) for table, columns in SEED004.items()}
        verified = {a.table for a in advice if a.status == "verified"}
        assert verified == set(SEED004)
    else:
        assert {table: status for table, (status, _) in found.items()} == dict.fromkeys(
            SEED004, "exists"
        )
        assert [a for a in advice if a.status == "verified"] == []

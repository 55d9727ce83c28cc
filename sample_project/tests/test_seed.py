"""seed_sample: deterministic rows, a page of 20 for the named users, idempotent re-runs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from sample_project.seed import row_counts

SMALL_ROWS = {
    "auth.Group": 5,
    "auth.User": 49,
    "lms.Plan": 3,
    "lms.UserProfile": 49,
    "lms.Subscription": 49,
    "lms.Category": 25,
    "lms.Tag": 9,
    "lms.Course": 42,
    "lms.Section": 168,
    "lms.Lesson": 588,
    "lms.Enrollment": 258,
    "lms.CourseReview": 127,
    "lms.MediaFile": 200,
    "lms.PaymentIntent": 683,
    "campaigns.Account": 2,
    "campaigns.Campaign": 27,
    "campaigns.CampaignPayout": 504,
    "projects.Project": 27,
    "projects.ProjectMember": 110,
    "projects.ProjectFile": 113,
    "projects.Feedback": 47,
}
PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.postgres
@pytest.mark.django_db
def test_small_seed_has_the_same_rows_on_every_database() -> None:
    assert row_counts() == SMALL_ROWS


@pytest.mark.postgres
@pytest.mark.django_db
def test_seeding_a_seeded_database_says_so() -> None:
    report, out = io.StringIO(), io.StringIO()

    call_command("seed_sample", "--size", "small", stdout=out, stderr=report)

    assert report.getvalue().startswith("Already seeded")
    assert out.getvalue() == ""
    assert row_counts() == SMALL_ROWS


def test_reset_wipes_and_seeds_again(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'reset.sqlite3'}"}

    def manage(*args: str) -> str:
        run = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert run.stdout == ""  # stdout stays free for callers' own output
        return run.stderr

    manage("migrate", "-v0")
    first = manage("seed_sample", "--size", "small")
    again = manage("seed_sample", "--size", "small")
    reset = manage("seed_sample", "--size", "small", "--reset")

    assert first.startswith("Seeded small data: 3085 rows")
    assert again.startswith("Already seeded")
    assert reset.splitlines()[1:] == first.splitlines()[1:]

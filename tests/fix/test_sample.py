"""perf_fix --apply on a copy of the sample project's `before` variant, judged against `after`.

Slow: migrates and seeds a copy, records the documented GET endpoints, builds the report, runs
perf_fix (a child process per attempt), then replays the same requests on the edited copy and on
a pristine copy run as `after`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.fix.runner import recorded_requests, replay
from perftoolkit.middleware.recording import recorded_profiles

SAMPLE = Path(__file__).resolve().parents[2] / "sample_project"
RECORD = """
import os, sys
sys.path.insert(0, os.getcwd())
import django
django.setup()
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from campaigns.models import Campaign
from lms.models import Enrollment
from lms.views.courses import published_courses
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
student = User.objects.get(username="student1")
ids = {
    "course": published_courses().first().pk,
    "campaign": Campaign.objects.filter(account__owner__username="advertiser1").order_by("id").first().pk,
    "enrolled": Enrollment.objects.filter(user=student, status="active").order_by("id").first().course_id,
}
for user, path in %s:
    client = Client()
    if user:
        client.force_login(User.objects.get(username=user))
    assert client.get(path.format(**ids)).status_code == 200, path
"""
ENDPOINTS = [
    (None, "/api/courses/"),
    (None, "/api/courses/{course}/"),
    ("instructor1", "/api/instructor/courses/"),
    ("student1", "/api/auth/profile/"),
    ("advertiser1", "/api/campaigns/"),
    ("advertiser1", "/api/campaigns/{campaign}/payouts/"),
    ("manager1", "/api/projects/"),
    ("admin1", "/api/users/recent/"),
    ("student1", "/api/enrollments/?course={enrolled}&status=active"),
    ("student1", "/api/courses/"),
    (None, "/api/categories/"),
    (None, "/api/courses/{course}/reviews/"),
    (None, "/catalog/"),
]


def _copy(target: Path) -> Path:
    shutil.copytree(
        SAMPLE, target, ignore=shutil.ignore_patterns("*.sqlite3*", "__pycache__", "tests")
    )
    return target


def _manage(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_perf_fix_brings_sample_before_to_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _copy(tmp_path / "before")
    after = _copy(tmp_path / "after")
    database = f"sqlite:///{tmp_path / 'sample.sqlite3'}"
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "sample_project.settings",
        "SAMPLE_VARIANT": "before",
        "DATABASE_URL": database,
        "PYTHONPATH": ":".join(p for p in sys.path if p),
    }
    for args in (("migrate", "-v0"), ("seed_sample", "--size", "small")):
        assert _manage(before, env, *args).returncode == 0
    record = tmp_path / "record.py"
    record.write_text(RECORD % repr(ENDPOINTS))
    recorded = subprocess.run(
        [sys.executable, str(record)],
        cwd=before,
        env={**env, "PERFTOOLKIT_RECORD_DIR": str(tmp_path / "rec")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert recorded.returncode == 0, recorded.stderr
    report = tmp_path / "report.json"
    assert (
        _manage(
            before, env, "perf_report", "build", str(tmp_path / "rec"), "-o", str(report)
        ).returncode
        == 0
    )
    fixed = _manage(before, env, "perf_fix", "--report", str(report), "--apply")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    # Each fix tried says which of how many it is.
    steps = re.findall(r"^\[(\d+)/(\d+)\] \w+: replaying", fixed.stderr, re.MULTILINE)
    assert {total for _, total in steps} == {steps[0][1]}
    tried = [int(n) for n, _ in steps]
    assert tried[0] == 1
    assert tried == sorted(set(tried))
    assert tried[-1] <= int(steps[0][1])
    data = json.loads(report.read_text())
    n_plus_one = [f for f in data["findings"] if f["kind"] == "n_plus_one"]
    lazy = sorted(f["path"] for f in data["findings"] if f["kind"] == "lazy_relation")
    assert lazy == ["category", "enrollments", "instructor__profile", "subscription__plan"]
    # 26 + 4 findings, 29 edits: the two `payouts` findings (iterated, counted) share one prefetch.
    # And 2 duplicate queries: the roles and the permissions a request asks for twice, each
    # function keeping its result on the user.
    memos = [f for f in data["fixes"] if f["finding"] in _ids(data, "duplicate_query")]
    assert (len(n_plus_one), len(data["fixes"]), len(memos)) == (26, 31, 2)
    assert all(f["verified"] for f in data["fixes"])
    assert sorted(f["files"] for f in memos) == [["lms/access.py"], ["lms/access.py"]]
    access = (before / "lms" / "access.py").read_text()
    for function in ("get_user_roles", "get_user_permissions"):
        assert f'if "_{function}_result" in remembered:' in access
    assert "get_user_roles() keeps its result on user" in fixed.stdout

    monkeypatch.setenv("DATABASE_URL", database)
    requests = [
        r for rs in recorded_requests(recorded_profiles(tmp_path / "rec")).values() for r in rs
    ]
    monkeypatch.setenv("SAMPLE_VARIANT", "before")
    edited = replay(requests, {}, project_dir=before, settings_module="sample_project.settings")
    monkeypatch.setenv("SAMPLE_VARIANT", "after")
    target = replay(requests, {}, project_dir=after, settings_module="sample_project.settings")
    table = {
        f"{r.method} {r.path}{'?' + r.query if r.query else ''} user={r.user}": (
            e.queries,
            t.queries,
        )
        for r, e, t in zip(requests, edited, target, strict=True)
    }
    (tmp_path / "queries.json").write_text(json.dumps(table, indent=1))  # for a reader
    assert all(e.key == t.key for e, t in zip(edited, target, strict=True)), table
    n_plus_one_endpoints = {
        (f["method"], f["route"]) for f in data["findings"] if f["kind"] == "n_plus_one"
    }
    gaps = {
        request.endpoint
        for (_, (fixed_count, after_count)), request in zip(table.items(), requests, strict=True)
        if request.endpoint in n_plus_one_endpoints and fixed_count > after_count + 1
    }
    # The course detail's lazy reads joined and annotated: 16 → 4 (after: 3, which also annotates
    # the average rating that a plain CourseReview query computes). The instructor dashboard's
    # roles and permissions, asked twice, are asked once (after: one cached query). Every N+1
    # endpoint is within one query of `after`, all with after's responses.
    detail = [v for k, v in table.items() if re.fullmatch(r"GET /api/courses/\d+/ user=None", k)]
    assert detail == [(4, 3)], table
    dashboard = [v for k, v in table.items() if k.startswith("GET /api/instructor/courses/ ")]
    assert dashboard == [(4, 3)], table
    assert gaps == set(), table


def _ids(data: dict[str, Any], kind: str) -> set[str]:
    return {f["id"] for f in data["findings"] if f["kind"] == kind}

"""No secret the sample project handles reaches anything perftoolkit writes.

Secrets are planted where the sample's queries carry them: an API token (the token
authentication's `WHERE key = %s`), session keys (every logged-in request reads its session), a
password hash (a login rehashes a password stored with another hasher: `UPDATE auth_user SET
password = %s`), the login's token (`INSERT INTO authtoken_token`), and an e-mail address used
as a username (`WHERE username = %s`). Every endpoint is then requested as its user, through the
session and through the token, with a login, an enrolment and a review, recording with `MODE`
"log" and every log record kept. Each secret is then looked for in every output: the record
lines, the samples, environment.json, report.json, the HTML and Markdown reports, the budget
gate's JUnit XML, Markdown and report, the index advice, and the logs.
"""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.test import Client
from perftoolkit.budgets.gate import BudgetOptions, run_budget_command
from perftoolkit.conf import RECORD_DIR_ENV, override_mode, reset_settings
from perftoolkit.exceptions import QueryBudgetExceeded
from perftoolkit.indexes.adviser import advise
from perftoolkit.middleware.detectors import detection_options, detectors
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.html import write_run_html
from perftoolkit.reporting.markdown import run_to_markdown
from perftoolkit.reporting.schema import dumps, read_run, write_run
from rest_framework.authtoken.models import Token

from campaigns.models import Campaign
from lms.models import Enrollment, UserProfile
from lms.views.courses import published_courses
from test_endpoints import ENDPOINTS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

API_TOKEN = "f00dface5ecre7c0ffee0123456789abcdef4242"
EMAIL = "planted.secret.4711@example.org"
PASSWORD = "Pl4nted-Passw0rd-4711"


def post(client: Client, path: str, data: dict[str, object]) -> int:
    return client.post(path, data, content_type="application/json").status_code


def test_no_secret_reaches_any_output(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    client_for: Callable[[str | None], Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    student1 = User.objects.get(username="student1")
    Token.objects.filter(user=student1).delete()
    Token.objects.create(key=API_TOKEN, user=student1)
    # Stored by a hasher the project no longer prefers: logging in stores a new hash.
    old_hash = make_password(PASSWORD, hasher="pbkdf2_sha256")
    planted = User.objects.create(username=EMAIL, email=EMAIL, password=old_hash)
    planted.groups.add(Group.objects.get(name="student"))
    UserProfile.objects.create(user=planted, display_name="Planted")
    ids = {
        "course": published_courses().values_list("pk", flat=True)[0],
        "campaign": Campaign.objects.filter(account__owner__username="advertiser1")
        .order_by("-created_at", "id")
        .values_list("pk", flat=True)[0],
        "enrolled_course": Enrollment.objects.filter(user=student1, status="active")
        .order_by("id")
        .values_list("course_id", flat=True)[0],
    }
    directory = tmp_path / "rec"
    monkeypatch.setenv(RECORD_DIR_ENV, str(directory))
    reset_settings()
    session_keys: list[str] = []
    caplog.set_level(logging.DEBUG)
    with override_mode("log"):
        for user, path in ENDPOINTS.values():
            client = client_for(user)
            if user:
                session_keys.append(client.session.session_key or "")
            for _ in range(2):
                assert client.get(path.format(**ids)).status_code == 200, path
        for path in ("/api/auth/profile/", "/api/enrollments/", "/api/courses/"):
            response = Client().get(path, HTTP_AUTHORIZATION=f"Token {API_TOKEN}")
            assert response.status_code == 200, path
        login = Client().post(
            "/api/auth/login/", {"username": EMAIL, "password": PASSWORD}, "application/json"
        )
        assert login.status_code == 200
        student2 = client_for("student2")
        session_keys.append(student2.session.session_key or "")
        enrolled = Enrollment.objects.filter(user__username="student2").values_list("course_id")
        course = (
            Enrollment.objects.exclude(course_id__in=enrolled)
            .filter(course__is_published=True)
            .values_list("course_id", flat=True)[0]
        )
        assert post(student2, f"/api/courses/{course}/enroll/", {}) == 201
        assert (
            post(student2, f"/api/courses/{course}/reviews/", {"rating": 5, "comment": "ok"}) == 201
        )
    monkeypatch.delenv(RECORD_DIR_ENV)
    reset_settings()

    new_hash = User.objects.get(pk=planted.pk).password
    assert new_hash != old_hash  # the login did store a new hash, through a recorded UPDATE
    secrets = {
        "API token": API_TOKEN,
        "login token": login.json()["token"],
        "e-mail": EMAIL,
        "password": PASSWORD,
        "old password hash": old_hash,
        "new password hash": new_hash,
        **{f"session key {i}": key for i, key in enumerate(session_keys)},
    }
    assert all(len(value) >= 16 for value in secrets.values())

    outputs = write_outputs(directory, tmp_path / "out")
    outputs["logs"] = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert len(outputs) > 10
    leaks = [
        f"{what} in {where}"
        for where, text in outputs.items()
        for what, secret in secrets.items()
        if secret in text
    ]
    assert leaks == []

    samples = directory / "samples"
    assert stat.S_IMODE(samples.stat().st_mode) == 0o700
    files = sorted(samples.glob("*.json"))
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
    read = [json.loads(f.read_text()) for f in files]
    redacted = {s["sql"].split(" FROM ")[-1].split(" ")[0] for s in read if s.get("redacted")}
    assert {'"django_session"', '"authtoken_token"'} & redacted
    assert any(
        s["sql"].startswith('INSERT INTO "authtoken_token"') and s.get("redacted") for s in read
    )
    # What is no secret is still there for EXPLAIN.
    assert sum(1 for s in read if s.get("params")) >= 15


def write_outputs(directory: Path, out: Path) -> dict[str, str]:
    out.mkdir()
    run = build_report(directory, detectors=detectors(), options=detection_options())
    report = write_run(run, out / "report.json")
    write_run_html(read_run(report), out / "index.html")
    (out / "report.md").write_text(run_to_markdown(read_run(report)))
    options = BudgetOptions(
        report=report,
        budgets=Path(__file__).resolve().parent.parent / "perf-budgets.toml",
        junit_xml=out / "budgets.xml",
        markdown=out / "budgets.md",
        output=out / "budgeted.json",
    )
    printed = out / "budget-check.txt"
    with printed.open("w") as stdout:
        try:
            run_budget_command("check", options, stdout=stdout)
        except QueryBudgetExceeded as exc:  # `before` is over its budgets
            stdout.write(str(exc))
    (out / "advice.json").write_text(dumps([a.to_dict() for a in advise(run, min_rows=0)]))
    files = [*directory.rglob("*"), *out.iterdir()]
    texts = {str(f.relative_to(f.parents[1])): f.read_text() for f in files if f.is_file()}
    assert any(name.endswith(".jsonl") for name in texts)
    return texts

"""`manage.py perf_audit` on the sample project: both variants, real gunicorn + Locust (slow)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.support.processes import ROOT, wait_until_gone

SAMPLE = ROOT / "sample_project"


def test_perf_audit_missing_profile_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as info:
        call_command("perf_audit", "--profile", "nope", "--out-dir", str(tmp_path))

    assert info.value.returncode == 1
    assert str(info.value).startswith("--profile nope: no locustfile nope.py in ")


def _manage(variant: str, database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAMPLE_VARIANT": variant, "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, str(SAMPLE / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _audit(variant: str, tmp_path: Path, *extra: str) -> dict[str, Any]:
    database = tmp_path / f"{variant}.sqlite3"
    for step in (["migrate", "-v0"], ["seed_sample", "--size", "small"]):
        done = _manage(variant, database, *step)
        assert done.returncode == 0, done.stderr
    result = _manage(
        variant, database, "perf_audit", "--profile", "smoke", "--users", "1",
        "--run-time", "6s", "--label", variant, "--out-dir", str(tmp_path / "reports"),
        "--quiet", *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads((tmp_path / "reports" / variant / "report.json").read_text())
    return data


@pytest.mark.slow
def test_perf_audit_sample_project_before_and_after(tmp_path: Path) -> None:
    before = _audit("before", tmp_path)
    after = _audit("after", tmp_path, "--compare", "before")

    endpoints = {f"{e['method']} {e['route']}": e for e in before["endpoints"]}
    fixed = {f"{e['method']} {e['route']}": e for e in after["endpoints"]}
    assert before["complete"] is True
    assert len(endpoints) >= 15
    assert {e["latency_source"] for e in endpoints.values()} == {"locust"}
    assert endpoints["GET api/courses/"]["queries"]["median"] >= 26
    assert fixed["GET api/courses/"]["queries"]["median"] <= 4
    assert ("n_plus_one", "api/courses/") in {(f["kind"], f["route"]) for f in before["findings"]}
    assert before["load"]["total"]["failures"] == 0
    assert after["cache"]["hits"] > 0
    assert before["cache"]["gets"] == 0
    compare = json.loads((tmp_path / "reports" / "compare" / "compare.json").read_text())
    assert compare["schema"] == "perftoolkit.compare/1"
    assert wait_until_gone(str(tmp_path)) == []


@pytest.mark.slow
def test_perf_audit_without_a_profile_scaffolds_one(tmp_path: Path) -> None:
    """A project with no loadtests/ anywhere near it: the audit scaffolds a profile from the
    URLconf into the run's artifacts, says so, and runs it over every GET route."""
    project = tmp_path / "site" / "sample_project"
    shutil.copytree(
        SAMPLE, project, ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__", "tests")
    )
    database = tmp_path / "before.sqlite3"
    env = {**os.environ, "SAMPLE_VARIANT": "before", "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(project / "manage.py"), *args],
            cwd=tmp_path / "site",
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )

    for step in (["migrate", "-v0"], ["seed_sample", "--size", "small"]):
        done = manage(*step)
        assert done.returncode == 0, done.stderr
    result = manage(
        "perf_audit", "--users", "2", "--run-time", "8s", "--out-dir", str(tmp_path / "reports")
    )

    assert result.returncode == 0, result.stderr
    assert (
        "No --profile and no loadtests/ directory: scaffolded a profile from the URLconf, "
        "artifacts/scaffold.py: 13 of 14 GET routes; logged in as admin1; 1 GET route is listed "
        "as not scaffolded" in result.stdout
    )
    run = json.loads((tmp_path / "reports" / "scaffold" / "report.json").read_text())
    exercised = {e["route"] for e in run["endpoints"] if e["method"] == "GET" and e["requests"]}
    # admin1 sees no campaign, so its payouts answer 404: asked once, that route was left out.
    assert len(exercised) == 13
    assert ("n_plus_one", "api/courses/") in {(f["kind"], f["route"]) for f in run["findings"]}
    assert run["notes"][0].startswith("No --profile and no loadtests/ directory: scaffolded")
    assert (tmp_path / "reports" / "scaffold" / "artifacts" / "scaffold.py").is_file()
    assert wait_until_gone(str(tmp_path)) == []

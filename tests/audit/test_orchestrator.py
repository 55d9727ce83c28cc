"""The audit: option errors (fast), and real runs of gunicorn + Locust on tests/auditsite (slow).

The slow tests run `perftoolkit audit` in its own process, as a user would, on 127.0.0.1 and
free ports only, each bounded by a timeout; after each, no process mentioning the test's
temporary directory may be left.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.audit.orchestrator import AuditOptions, run_audit
from perftoolkit.audit.processes import free_port
from perftoolkit.audit.servers import ServerOptions, running_server
from perftoolkit.audit.target import TargetProject
from perftoolkit.core.runs.run import build_run
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.reporting.schema import write_run
from tests.support.processes import ROOT, cli_argv, run_cli, wait_until_gone

SITE = ROOT / "tests" / "auditsite"
PROFILE = str(SITE / "loadtests" / "site.py")
FIXED = str(SITE / "loadtests" / "fixed.py")
SITE_SETTINGS = ["--settings", "tests.auditsite.settings", "--project-dir", str(ROOT)]


# -- errors before anything starts ---------------------------------------------------------


def test_run_audit_refuses_to_replace_a_complete_report(tmp_path: Path) -> None:
    previous = build_run(
        [], label="site", started_at=0, finished_at=60, environment={}, detectors=[], options=None
    )  # type: ignore[arg-type]
    write_run(previous, tmp_path / "site" / "report.json")

    with pytest.raises(ConfigurationError) as info:
        run_audit(AuditOptions(profiles=(PROFILE,), out_dir=tmp_path, cwd=ROOT))

    assert str(info.value) == (
        f"{tmp_path / 'site' / 'report.json'} already holds a complete run "
        "(1970-01-01T00:01:00Z). Pass --force to replace it, or choose another --label."
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"fail_on": ("regression",)},
            "--fail-on regression needs --compare <label-or-dir>.",
        ),
        ({"fail_on": ("speed",)}, "--fail-on 'speed' is not a gate; use budget or regression."),
        ({"label": "../up"}, "--label '../up' cannot name a report directory"),
        ({"label": "compare"}, "--label 'compare' cannot name a report directory"),
        ({"users": 0}, "--users must be at least 1, not 0."),
        ({"record_dir": Path("rec")}, "--record-dir names the record directory of a server"),
        ({"compare": "nothing"}, "--compare nothing: no report found at"),
        ({"max_failure_rate": 1.5}, "--max-failure-rate must be a fraction from 0 to 1"),
        ({"compare": "x", "confidence": 1.0}, "--confidence is 1; it is the confidence"),
        ({"compare": "x", "tolerance": -1.0}, "--tolerance is -1; it is the smallest"),
    ],
)
def test_run_audit_option_errors(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        run_audit(AuditOptions(profiles=(PROFILE,), out_dir=tmp_path, cwd=ROOT, **options))

    assert str(info.value).startswith(message)


def test_run_audit_unreachable_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(ConfigurationError) as info:
        run_audit(AuditOptions(profiles=(PROFILE,), url=url, out_dir=tmp_path, cwd=ROOT))

    assert str(info.value) == (
        f"Nothing answers at --url {url}. Start your server first (and check the host and "
        "port), or leave out --url to let the audit start the project."
    )
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize(
    ("missing", "server", "message"),
    [
        ("locust", "gunicorn", "Locust is not installed, and the audit drives the server with it."),
        ("gunicorn", "gunicorn", "gunicorn is not installed, and the audit starts the project"),
        ("uvicorn", "uvicorn", "uvicorn is not installed, and the audit starts the project"),
    ],
)
def test_run_audit_says_what_is_not_installed_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str, server: str, message: str
) -> None:
    import importlib.util

    from perftoolkit.audit import scaffold
    from perftoolkit.exceptions import LoadTestError

    find_spec = importlib.util.find_spec
    present = find_spec("json")  # any spec: the others of the audit extra look installed

    # What is installed is the system's edge: the package is made to look absent, the rest of
    # the audit extra present (a test environment may not have them).
    def spec(name: str, *args: Any) -> Any:
        if name == missing:
            return None
        if name in ("locust", "gunicorn", "uvicorn"):
            return present
        return find_spec(name)

    monkeypatch.setattr(importlib.util, "find_spec", spec)

    def scaffolded(*args: Any) -> None:
        raise AssertionError("a profile was scaffolded before the check")

    monkeypatch.setattr(scaffold, "prepare_for_audit", scaffolded)
    with pytest.raises(LoadTestError) as info:
        run_audit(AuditOptions(out_dir=tmp_path, cwd=tmp_path, server=server))

    assert str(info.value).startswith(message)
    assert str(info.value).endswith("Install the audit extra: pip install 'perftoolkit[audit]'.")
    assert list(tmp_path.iterdir()) == []


def test_cli_audit_missing_profile_is_one_message(tmp_path: Path) -> None:
    result = run_cli("audit", *SITE_SETTINGS, "--profile", "nope", "--out-dir", str(tmp_path))

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: --profile nope: no locustfile nope.py in ")
    assert "Profiles available: campaigns, lms_instructors, lms_students, mixed" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_audit_without_settings_or_url(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        cli_argv("audit", "--profile", PROFILE, "--out-dir", str(tmp_path)),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr == (
        "Error: The audit starts your project, so it needs its settings: run `manage.py "
        "perf_audit`, or pass --settings (or set DJANGO_SETTINGS_MODULE) and --project-dir; to "
        "audit a server you already run, pass --url.\n"
    )


# -- real runs -------------------------------------------------------------------------------


def _report(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "report.json").read_text())
    return data


def _endpoints(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{e['method']} {e['route']}": e for e in report["endpoints"]}


@pytest.fixture
def no_orphans(tmp_path: Path) -> Iterator[None]:
    yield
    assert wait_until_gone(str(tmp_path)) == []


@pytest.mark.slow
@pytest.mark.usefixtures("no_orphans")
def test_audit_end_to_end_percentiles_match_locusts_own(tmp_path: Path) -> None:
    result = run_cli(
        "audit", *SITE_SETTINGS, "--profile", FIXED, "--users", "3", "--spawn-rate", "3",
        "--run-time", "5s", "--out-dir", str(tmp_path), "--quiet",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{tmp_path / 'fixed' / 'index.html'}\n"
    report = _report(tmp_path / "fixed")
    endpoints = _endpoints(report)
    assert report["complete"] is True
    assert sorted(endpoints) == ["GET cached/", "GET items/", "GET items/<int:pk>/"]
    assert {k: e["requests"] for k, e in endpoints.items()} == {
        "GET cached/": 78,
        "GET items/": 81,
        "GET items/<int:pk>/": 81,
    }
    assert {k: e["queries"]["max"] for k, e in endpoints.items()} == {
        "GET cached/": 1,
        "GET items/": 5,
        "GET items/<int:pk>/": 1,
    }
    assert {e["latency_source"] for e in endpoints.values()} == {"locust"}
    assert [(f["kind"], f["route"]) for f in report["findings"]] == [("n_plus_one", "items/")]
    assert endpoints["GET cached/"]["cache"]["gets"] == 78
    assert report["indexes"] == []
    # The same run, as Locust itself reports it: its stats CSV, written after the users stopped.
    with (tmp_path / "fixed" / "artifacts" / "locust_stats.csv").open() as handle:
        locust = {row["Name"]: row for row in csv.DictReader(handle)}
    ours = {e["route"]: e for e in report["load"]["entries"]} | {
        "Aggregated": report["load"]["total"]
    }
    names = {"items/": "/items/", "items/7/": "/items/7/", "cached/": "/cached/"}
    for route, entry in ours.items():
        row = locust[names.get(route, route)] if route != "items/<int:pk>/" else locust["/items/7/"]
        assert [entry["latency_ms"][p] for p in ("p50", "p95", "p99")] == [
            float(row[c]) for c in ("50%", "95%", "99%")
        ], route


@pytest.mark.slow
@pytest.mark.usefixtures("no_orphans")
def test_audit_distributed_with_two_workers(tmp_path: Path) -> None:
    result = run_cli(
        "audit", *SITE_SETTINGS, "--profile", PROFILE, "--workers", "2", "--users", "4",
        "--spawn-rate", "4", "--run-time", "5s", "--out-dir", str(tmp_path), "--json",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == _report(tmp_path / "site")
    assert (report["load"]["workers"], report["complete"]) == (2, True)
    assert report["load"]["total"]["requests"] > 0
    assert report["environment"]["load"] == "locust, 4 users, 2 workers"
    assert sorted(_endpoints(report)) == ["GET cached/", "GET items/", "GET items/<int:pk>/"]
    logs = sorted(p.name for p in (tmp_path / "site" / "artifacts").glob("locust-worker-*.log"))
    assert logs == ["locust-worker-1.log", "locust-worker-2.log"]


@pytest.mark.slow
@pytest.mark.usefixtures("no_orphans")
def test_audit_master_bind_waits_for_a_worker_started_with_the_printed_command(
    tmp_path: Path,
) -> None:
    port = free_port()
    audit = subprocess.Popen(
        cli_argv(
            "audit",
            *SITE_SETTINGS,
            "--profile",
            PROFILE,
            "--master-bind",
            f"127.0.0.1:{port}",
            "--users",
            "2",
            "--spawn-rate",
            "2",
            "--run-time",
            "4s",
            "--out-dir",
            str(tmp_path),
            "--quiet",
        ),  # fmt: skip
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    worker = None
    try:
        assert audit.stderr is not None
        lines = [audit.stderr.readline() for _ in range(3)]
        assert lines[0].startswith(
            f"Locust's master listens on 127.0.0.1:{port} and waits up to 300 s for 1 worker."
        ), lines
        command = lines[1].strip()
        assert command == (
            f"python -m locust -f - --worker --master-host 127.0.0.1 --master-port {port}"
        )
        (tmp_path / "worker").mkdir()
        worker = subprocess.Popen(
            [sys.executable, *command.split()[1:]],
            cwd=tmp_path / "worker",
            env={**os.environ, "TMPDIR": str(tmp_path / "worker")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stdout, stderr = audit.communicate(timeout=120)
        worker.wait(timeout=60)
    finally:
        audit.kill()
        if worker is not None:
            worker.kill()

    assert audit.returncode == 0, stderr
    report = _report(tmp_path / "site")
    assert (report["load"]["workers"], report["complete"]) == (1, True)
    assert report["load"]["total"]["requests"] > 0
    assert (tmp_path / "worker" / "site.py").is_file()  # the profile came from the master


def _start_long_audit(tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli_argv(
            "audit",
            *SITE_SETTINGS,
            "--profile",
            PROFILE,
            "--users",
            "2",
            "--spawn-rate",
            "2",
            "--run-time",
            "2m",
            "--out-dir",
            str(tmp_path),
            "--quiet",
        ),  # fmt: skip
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_load(tmp_path: Path, audit: subprocess.Popen[str]) -> None:
    """Until Locust has printed some requests (bounded: 60 s)."""
    log = tmp_path / "site" / "artifacts" / "locust.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and audit.poll() is None:
        if log.exists() and re.search(r"Aggregated\s+[1-9]", log.read_text()):
            return
        time.sleep(0.2)
    raise AssertionError(f"no load after 60 s: {log.read_text() if log.exists() else 'no log'}")


@pytest.mark.slow
@pytest.mark.usefixtures("no_orphans")
@pytest.mark.parametrize(("sig", "name"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")])
def test_audit_interrupted_writes_an_incomplete_report(
    tmp_path: Path, sig: signal.Signals, name: str
) -> None:
    audit = _start_long_audit(tmp_path)
    try:
        _wait_for_load(tmp_path, audit)
        audit.send_signal(sig)
        stdout, stderr = audit.communicate(timeout=60)
    finally:
        audit.kill()

    assert audit.returncode == 1
    assert re.fullmatch(rf"Error: The run was interrupted \({name}\) after \d+ s\.\n", stderr)
    report = _report(tmp_path / "site")
    assert report["complete"] is False
    assert report["incomplete_reason"].startswith(f"The run was interrupted ({name})")
    assert report["load"]["total"]["requests"] > 0
    assert "GET items/" in _endpoints(report)


@pytest.mark.slow
@pytest.mark.usefixtures("no_orphans")
def test_audit_server_crash_is_reported_and_cleaned_up(tmp_path: Path) -> None:
    audit = _start_long_audit(tmp_path)
    try:
        _wait_for_load(tmp_path, audit)
        log = (tmp_path / "site" / "artifacts" / "server.log").read_text()
        master = re.search(r"\[(\d+)\] \[INFO\] Starting gunicorn", log)
        assert master is not None, log
        os.kill(int(master.group(1)), signal.SIGKILL)
        stdout, stderr = audit.communicate(timeout=60)
    finally:
        audit.kill()

    assert audit.returncode == 1
    assert stderr.startswith("Error: The server exited (code -9) during the load test.")
    assert _report(tmp_path / "site")["complete"] is False


@pytest.mark.slow
@pytest.mark.usefixtures("no_orphans")
def test_audit_url_mode_with_and_without_the_record_dir(tmp_path: Path) -> None:
    target = TargetProject(
        settings_module="tests.auditsite.settings",
        root=ROOT,
        wsgi_application="tests.auditsite.wsgi:application",
        asgi_application="tests.auditsite.asgi:application",
        middleware_installed=True,
    )
    record_dir = tmp_path / "served"
    options = ServerOptions(workers=1)
    with running_server(
        target, options, record_dir=record_dir, log_path=tmp_path / "s.log"
    ) as server:
        common = ["--url", server.url, "--profile", PROFILE, "--users", "2", "--spawn-rate", "2"]
        common += ["--run-time", "3s", "--out-dir", str(tmp_path), "--quiet"]
        recorded = run_cli("audit", *SITE_SETTINGS, *common, "--record-dir", str(record_dir))
        latency = run_cli("audit", *common, "--label", "latency")

    assert (recorded.returncode, latency.returncode) == (0, 0), recorded.stderr + latency.stderr
    with_records = _report(tmp_path / "site")
    only_latency = _report(tmp_path / "latency")
    assert _endpoints(with_records)["GET items/"]["queries"]["max"] == 5
    assert with_records["environment"]["server"] == f"external ({server.url})"
    assert only_latency["notes"] == [
        f"Latency only: {server.url} was audited without --record-dir, so the report has no "
        "queries, findings or cache figures, only Locust's numbers."
    ]
    assert _endpoints(only_latency)["GET items/"]["queries"]["max"] is None
    assert only_latency["findings"] == []

"""Start-up failures name their cause: the first exception of the server's log (not gunicorn's
HaltServer), the full path of the log, and no empty run directory; a profile that does not parse is
one error at its file and line, before anything starts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from perftoolkit.audit.locust import check_locustfile
from perftoolkit.audit.orchestrator import AuditOptions, run_audit
from perftoolkit.audit.startup import (
    LoggedException,
    discard_empty_run,
    explain_failure,
    first_exception,
)
from perftoolkit.exceptions import ConfigurationError
from tests.support.corpus import line_of
from tests.support.processes import ROOT, run_cli, wait_until_gone

LOGS = ROOT / "tests" / "fixtures" / "logs"
SITE = ROOT / "tests" / "auditsite"


def test_first_exception_skips_gunicorns_halt_server() -> None:
    found = first_exception((LOGS / "gunicorn_boot_failure.log").read_text())

    assert found == LoggedException(
        "ModuleNotFoundError: No module named 'brokensite.missing_module'",
        "/srv/app/brokensite/wsgi.py",
        4,
        "import brokensite.missing_module  # noqa",
    )
    assert str(found) == (
        "ModuleNotFoundError: No module named 'brokensite.missing_module' (at "
        "/srv/app/brokensite/wsgi.py:4: import brokensite.missing_module  # noqa)"
    )


def test_first_exception_of_a_syntax_error_in_settings() -> None:
    log = "\n".join(
        [
            "[2026-12-04 16:57:17 +0000] [3049] [ERROR] Exception in worker process",
            "Traceback (most recent call last):",
            '  File "/srv/venv/lib/python3.11/site-packages/django/conf/__init__.py", line 8, in x',
            "    mod = importlib.import_module(self.SETTINGS_MODULE)",
            '  File "/srv/app/mysite/settings.py", line 12',
            "    DEBUG = (",
            "            ^",
            "SyntaxError: '(' was never closed",
        ]
    )

    assert first_exception(log) == LoggedException(
        "SyntaxError: '(' was never closed", "/srv/app/mysite/settings.py", 12, "DEBUG = ("
    )


def test_first_exception_falls_back_to_gunicorns_error_line() -> None:
    log = "\n".join(
        [
            "[2026-12-04 10:00:00 +0000] [7] [ERROR] Failed to find attribute 'app' in 'mysite.wsgi'.",
            "[2026-12-04 10:00:00 +0000] [7] [ERROR] Worker (pid:8) exited with code 4",
            "Traceback (most recent call last):",
            '  File "/srv/venv/lib/python3.11/site-packages/gunicorn/arbiter.py", line 683, in r',
            "gunicorn.errors.HaltServer: <HaltServer 'App failed to load.' 4>",
        ]
    )

    assert first_exception(log) == LoggedException(
        "Failed to find attribute 'app' in 'mysite.wsgi'."
    )
    assert first_exception("nothing happened\n") is None


def test_explain_failure_names_the_cause_and_the_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text((LOGS / "gunicorn_boot_failure.log").read_text())
    error = (
        "The server exited (code 3) before it answered on http://127.0.0.1:8000. "
        "The end of its log (server.log):\n...tail..."
    )

    assert explain_failure(error, log) == (
        "The server exited (code 3) before it answered on http://127.0.0.1:8000. The first "
        "exception in its log: ModuleNotFoundError: No module named 'brokensite.missing_module' "
        "(at /srv/app/brokensite/wsgi.py:4: import brokensite.missing_module  # noqa)."
    )


def test_discard_empty_run_keeps_the_logs_elsewhere(tmp_path: Path) -> None:
    run_dir = tmp_path / "reports" / "site"
    artifacts = run_dir / "artifacts"
    artifacts.mkdir(parents=True)
    (artifacts / "server.log").write_text("boom\n")

    message = discard_empty_run(
        run_dir, artifacts, created=True, message=f"Full log: {artifacts / 'server.log'}"
    )

    assert not run_dir.exists()
    assert (tmp_path / "reports").is_dir()
    moved = Path(message.removeprefix("Full log: "))
    assert moved.read_text() == "boom\n"
    assert moved.parent.name.startswith("perftoolkit-site-")


def test_discard_empty_run_keeps_an_earlier_report(tmp_path: Path) -> None:
    run_dir = tmp_path / "site"
    (run_dir / "artifacts").mkdir(parents=True)
    (run_dir / "report.json").write_text("{}")

    discard_empty_run(run_dir, run_dir / "artifacts", created=False, message="")

    assert sorted(p.name for p in run_dir.iterdir()) == ["report.json"]


def test_check_locustfile_reports_a_syntax_error_at_its_line(tmp_path: Path) -> None:
    profile = tmp_path / "broken.py"
    profile.write_text("import locust\n\nclass User(locust.HttpUser:\n    pass\n")

    with pytest.raises(ConfigurationError) as info:
        check_locustfile(profile)

    assert str(info.value) == (
        f"{profile}:3: invalid syntax: class User(locust.HttpUser:. The Locust profile does not "
        "parse; fix that line and run the audit again."
    )


def test_check_locustfile_checks_the_helpers_it_imports(tmp_path: Path) -> None:
    (tmp_path / "_helpers.py").write_text("def broken(:\n")
    profile = tmp_path / "site.py"
    profile.write_text("import locust\nfrom _helpers import broken\n")

    with pytest.raises(ConfigurationError, match=r"_helpers\.py:1: "):
        check_locustfile(profile)


def test_run_audit_refuses_a_broken_profile_before_starting(tmp_path: Path) -> None:
    profile = tmp_path / "broken.py"
    profile.write_text("x = (\n")

    with pytest.raises(ConfigurationError, match=r"broken\.py:1: '\(' was never closed"):
        run_audit(AuditOptions(profiles=(str(profile),), out_dir=tmp_path / "out", cwd=ROOT))

    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_audit_of_a_project_that_cannot_start_names_the_cause(tmp_path: Path) -> None:
    result = run_cli(
        "audit",
        "--settings",
        "tests.auditsite.broken_settings",
        "--project-dir",
        str(ROOT),
        "--profile",
        str(SITE / "loadtests" / "site.py"),
        "--out-dir",
        str(tmp_path),
        "--run-time",
        "3s",
        "--quiet",
    )

    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    # gunicorn's master exits with 3 (a worker failed to boot) or 1, whichever it sees first.
    assert re.match(r"Error: The server exited \(code [13]\) before it answered on http://", first)
    assert (
        "The first exception in its log: ModuleNotFoundError: No module named "
        "'tests.auditsite.no_such_module' (at " in first
    )
    line = line_of("tests/auditsite/broken_wsgi.py", "# the cause the audit must name")
    assert f"tests/auditsite/broken_wsgi.py:{line}: import tests.auditsite.no_such_module" in first
    assert "HaltServer" not in result.stderr
    assert ". Nothing was collected, so no report was written. Full log: /" in first
    log = Path(first.split(" Full log: ", 1)[1])
    assert log.name == "server.log"
    assert "ModuleNotFoundError" in log.read_text()
    assert list(tmp_path.iterdir()) == []  # no empty reports/<label>/
    assert wait_until_gone(str(tmp_path)) == []

"""The audit knows what it measured: the server it drives is its own (a per-run nonce), and a run
whose requests failed or whose load test raised is incomplete, says why, and exits 1 — with its
report still written and the exceptions in every view.

Fast tests call the pieces directly (the identity wrappers, the load verdict, Locust's exceptions
file); slow ones run `perftoolkit audit` on tests/auditsite, on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.audit import identity, servers
from perftoolkit.audit.files import load_problems
from perftoolkit.audit.servers import ServerOptions, identify, running_server
from perftoolkit.audit.target import TargetProject
from perftoolkit.core.runs.loadstats import LoadEntry, LoadStats
from perftoolkit.core.runs.taskerrors import LoadException, last_frame, parse_locust_exceptions
from perftoolkit.exceptions import LoadTestError
from tests.support.processes import ROOT, run_cli, wait_until_gone

SITE = ROOT / "tests" / "auditsite"
SITE_SETTINGS = ["--settings", "tests.auditsite.settings", "--project-dir", str(ROOT)]
NONCE = "0123456789abcdef0123456789abcdef"


# -- the server is ours --------------------------------------------------------------------


def _wsgi_call(app: Any, path: str, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": method}, start_response))
    return seen["status"], seen["headers"], body


def test_wsgi_wrapper_answers_the_probe_and_passes_everything_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(identity.NONCE_ENV, NONCE)
    app = identity.wsgi("tests.reliability.host_apps:wsgi_app")

    assert _wsgi_call(app, identity.READY_PATH) == (
        "200 OK",
        {
            "content-type": "text/plain; charset=utf-8",
            "content-length": "32",
            "cache-control": "no-store",
            "x-perftoolkit-nonce": NONCE,
        },
        NONCE.encode(),
    )
    # Every other request is the host's own: same status, headers and body, byte for byte.
    from tests.reliability.host_apps import wsgi_app

    for path, method in [("/", "GET"), ("/items/", "POST"), (identity.READY_PATH, "POST")]:
        assert _wsgi_call(app, path, method) == _wsgi_call(wsgi_app, path, method)


def test_asgi_wrapper_answers_the_probe_and_passes_everything_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(identity.NONCE_ENV, NONCE)
    app = identity.asgi("tests.reliability.host_apps:asgi_app")
    from tests.reliability.host_apps import asgi_app

    async def call(application: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await application(scope, receive, send)
        return sent

    probe = {"type": "http", "path": identity.READY_PATH, "method": "GET"}
    answer = asyncio.run(call(app, probe))
    assert answer[0]["status"] == 200
    assert (b"x-perftoolkit-nonce", NONCE.encode()) in answer[0]["headers"]
    assert answer[1] == {"type": "http.response.body", "body": NONCE.encode()}
    for scope in (
        {"type": "http", "path": "/items/", "method": "GET"},
        {"type": "http", "path": identity.READY_PATH, "method": "POST"},
        {"type": "lifespan"},
    ):
        assert asyncio.run(call(app, scope)) == asyncio.run(call(asgi_app, scope))


def test_wrapper_refuses_to_start_without_a_nonce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(identity.NONCE_ENV, raising=False)

    with pytest.raises(RuntimeError, match="PERFTOOLKIT_AUDIT_NONCE is not set"):
        identity.wsgi("tests.reliability.host_apps:wsgi_app")


def test_server_argv_runs_the_project_inside_the_wrapper() -> None:
    target = TargetProject("s", ROOT, "tests.auditsite.wsgi:application", "x.asgi:app", True)

    wsgi = servers.server_argv(target, ServerOptions(), 8000)
    asgi = servers.server_argv(target, ServerOptions(kind="uvicorn"), 8000)

    assert wsgi[-1] == "perftoolkit.audit.identity:wsgi('tests.auditsite.wsgi:application')"
    assert asgi[-1] == "perftoolkit.audit.identity:asgi('x.asgi:app')"


class _Foreign(http.server.BaseHTTPRequestHandler):
    """Another program's server: it answers every path, knowing nothing of nonces."""

    def do_GET(self) -> None:
        body = b"hello from someone else"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def foreign_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Foreign)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_identify_tells_our_server_from_a_foreign_one_and_from_none(foreign_port: int) -> None:
    from perftoolkit.audit.processes import free_port

    assert identify(f"http://127.0.0.1:{foreign_port}", NONCE) == "foreign"
    assert identify(f"http://127.0.0.1:{free_port()}", NONCE) == "none"


@pytest.mark.slow
def test_audit_server_refuses_a_foreign_server_on_its_port(
    foreign_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process took the port between the audit picking it and gunicorn binding it (the
    race, forced: the port handed out is the foreign server's)."""
    monkeypatch.setattr(servers, "free_port", lambda: foreign_port)
    target = TargetProject(
        "tests.auditsite.settings", ROOT, "tests.auditsite.wsgi:application", "", True
    )

    with (
        pytest.raises(LoadTestError) as info,
        running_server(
            target,
            ServerOptions(workers=1),
            record_dir=tmp_path / "rec",
            log_path=tmp_path / "s.log",
        ),
    ):
        pytest.fail("the audit went on with a server it did not start")

    assert str(info.value).startswith(
        f"Another server answers on port {foreign_port} of 127.0.0.1: it did not return this "
        "audit's nonce at /__perftoolkit__/ready, so it is not the server the audit started"
    )
    assert wait_until_gone(str(tmp_path)) == []


# -- failures and exceptions make a run incomplete -----------------------------------------


def _load(requests: int, failures: int, exceptions: tuple[LoadException, ...] = ()) -> LoadStats:
    total = LoadEntry("", "Aggregated", requests, failures, 1.0, 2.0, 3.0)
    return LoadStats("locust", 1, 1.0, 10.0, 0, (), (), total, exceptions)


@pytest.mark.parametrize(
    ("requests", "failures", "limit", "incomplete"),
    [
        (1000, 10, 0.01, False),  # exactly 1 %: allowed
        (1000, 11, 0.01, True),
        (100, 0, 0.0, False),
        (100, 1, 0.0, True),  # --max-failure-rate 0: any failure
        (100, 100, 1.0, False),  # --max-failure-rate 1: never
        (0, 3, 0.5, True),  # every request failed before it was counted
        (0, 0, 0.01, True),  # nothing sent
    ],
)
def test_load_problems_failure_rate(
    requests: int, failures: int, limit: float, incomplete: bool
) -> None:
    assert bool(load_problems(_load(requests, failures), max_failure_rate=limit)) is incomplete


def test_load_problems_say_how_many_failed_and_what_raised() -> None:
    raised = (
        LoadException(20, "'missing'", 'File "site.py", line 18, in misread: return r["missing"]'),
        LoadException(7, "boom", ""),
    )

    problems = load_problems(_load(200, 9, raised), max_failure_rate=0.01)

    assert problems == [
        "9 of 200 requests failed (4.5 %), more than --max-failure-rate allows (1 %): the figures "
        "describe failures more than the endpoints (see load.entries[].failures and "
        "artifacts/locust_failures.csv).",
        "Locust's tasks raised 27 exceptions of 2 kinds, so the load did not run as its profile "
        "says; the most frequent (20×): 'missing' at File \"site.py\", line 18, in misread: "
        'return r["missing"] (all of them: load.exceptions in report.json, '
        "artifacts/locust_exceptions.csv).",
    ]


def test_parse_locust_exceptions_most_frequent_first_with_the_last_frame() -> None:
    text = (
        "Count,Message,Traceback,Nodes\n"
        '2,boom,"  File ""a.py"", line 1, in run\n    go()\n",local\n'
        '5,\'missing\',"  File ""/x/locust/user/task.py"", line 9, in execute\n    task(self)\n'
        '  File ""site.py"", line 18, in misread\n    return r[""missing""]\n",local\n'
    )

    assert parse_locust_exceptions(text) == [
        LoadException(5, "'missing'", 'File "site.py", line 18, in misread: return r["missing"]'),
        LoadException(2, "boom", 'File "a.py", line 1, in run: go()'),
    ]
    assert last_frame("") == ""
    assert last_frame('  File "b.py", line 2, in f\n    x[1]\n    ~^^^\n') == (
        'File "b.py", line 2, in f: x[1]'
    )
    with pytest.raises(ValueError, match="Locust exceptions CSV row"):
        parse_locust_exceptions("Count,Message\nmany,x\n")


def _run_site(tmp_path: Path, profile: str, *extra: str) -> tuple[Any, dict[str, Any]]:
    result = run_cli(
        "audit", *SITE_SETTINGS, "--profile", str(SITE / "loadtests" / f"{profile}.py"),
        "--users", "2", "--spawn-rate", "2", "--run-time", "4s", "--out-dir", str(tmp_path),
        *extra,
    )  # fmt: skip
    report = json.loads((tmp_path / profile / "report.json").read_text())
    return result, report


@pytest.mark.slow
def test_audit_with_task_exceptions_is_incomplete_and_shows_them_everywhere(
    tmp_path: Path,
) -> None:
    result, report = _run_site(tmp_path, "raising")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: Locust's tasks raised ")
    assert report["complete"] is False
    assert report["incomplete_reason"].startswith("Locust's tasks raised ")
    (raised,) = report["load"]["exceptions"]
    assert raised["count"] > 0
    assert raised["message"] == "'missing'"
    assert raised["traceback"] == (  # relative to where the audit ran: no absolute path
        'File "tests/auditsite/loadtests/raising.py", line 18, in misread: '
        'return response.json()["missing"]'
    )
    # The terminal summary, the HTML report and the Markdown view all list it.
    assert f"{raised['count']} × 'missing'" in result.stdout
    html = (tmp_path / "raising" / "index.html").read_text()
    assert "Load test exceptions" in html
    assert "&#x27;missing&#x27;" in html
    shown = run_cli("report", "show", str(tmp_path / "raising" / "report.json"), "-f", "markdown")
    assert f"### Load test exceptions: {raised['count']}" in shown.stdout
    assert f"| {raised['count']} | 'missing' |" in shown.stdout
    assert wait_until_gone(str(tmp_path)) == []


@pytest.mark.slow
def test_audit_whose_capture_failed_is_incomplete_and_counts_nothing_as_zero(
    tmp_path: Path,
) -> None:
    """perftoolkit's own per-query hook raises in the server: Locust sees every answer (the
    host is untouched), and the report counts the requests as unmeasured, never as 0 queries."""
    result = run_cli(
        "audit", "--settings", "tests.auditsite.faulty_settings", "--project-dir", str(ROOT),
        "--profile", str(SITE / "loadtests" / "site.py"), "--label", "faulty", "--users", "2", "--spawn-rate", "2",
        "--run-time", "4s", "--out-dir", str(tmp_path),
    )  # fmt: skip
    report = json.loads((tmp_path / "faulty" / "report.json").read_text())

    assert result.returncode == 1
    assert report["load"]["total"]["failures"] == 0
    unmeasured = report["unmeasured_requests"]
    assert unmeasured > 0
    # /cached/ runs no query once its value is cached: those requests were measured, at 0.
    endpoints = {e["route"]: e for e in report["endpoints"]}
    assert {route: e["queries"]["max"] for route, e in endpoints.items()} == {
        "cached/": 0,
        "items/": None,
        "items/<int:pk>/": None,
    }
    recorded = unmeasured + endpoints["cached/"]["requests"]
    assert report["complete"] is False
    assert report["incomplete_reason"] == (
        f"{unmeasured} of {recorded} recorded requests were not measured: perftoolkit's own "
        "capture failed on them (the report's notes say where; the server log has the traceback)."
    )
    assert result.stderr.startswith(f"Error: {unmeasured} of {recorded} recorded requests")
    assert any(n.startswith(f"{unmeasured} requests were not measured") for n in report["notes"])
    assert wait_until_gone(str(tmp_path)) == []


@pytest.mark.slow
def test_audit_over_the_failure_rate_is_incomplete_and_the_limit_is_a_flag(tmp_path: Path) -> None:
    failing, report = _run_site(tmp_path / "strict", "failing")
    allowed, lenient = _run_site(tmp_path / "lenient", "failing", "--max-failure-rate", "0.5")

    assert failing.returncode == 1
    assert "more than --max-failure-rate allows (1 %)" in failing.stderr
    assert report["complete"] is False
    failures = report["load"]["total"]["failures"]
    assert failures > 0
    assert report["incomplete_reason"].startswith(
        f"{failures} of {report['load']['total']['requests']} requests failed"
    )
    assert (allowed.returncode, lenient["complete"], lenient["incomplete_reason"]) == (
        0,
        True,
        None,
    )
    assert wait_until_gone(str(tmp_path)) == []


# -- the time requests ran, apart from the machine's other work ---------------------------------


def test_timings_record_wall_time_and_cpu_wait_per_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(identity.NONCE_ENV, NONCE)
    monkeypatch.setenv(identity.RECORD_DIR_ENV, str(tmp_path))
    app = identity.wsgi("tests.reliability.host_apps:wsgi_app")
    from tests.reliability.host_apps import wsgi_app

    answers = [_wsgi_call(app, f"/items/{n}/") for n in range(3)]
    _wsgi_call(app, identity.READY_PATH)  # the probe is not a request of the run

    assert answers == [_wsgi_call(wsgi_app, f"/items/{n}/") for n in range(3)]
    (file,) = (tmp_path / "timings").iterdir()
    assert file.stat().st_mode & 0o777 == 0o600
    lines = [json.loads(line) for line in file.read_text().splitlines()]
    assert [line[:2] for line in lines] == [["GET", f"/items/{n}/"] for n in range(3)]
    assert all(0 <= wait <= wall for _, _, _, wall, wait in lines)


def test_timings_are_off_where_schedstat_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity, "SCHEDSTAT", str(tmp_path / "missing"))

    timings = identity.Timings(str(tmp_path))
    timings.stop(timings.start(), "GET", "/")

    assert timings.on is False
    assert not (tmp_path / "timings").exists()


def test_timings_never_fail_a_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(identity.NONCE_ENV, NONCE)
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv(identity.RECORD_DIR_ENV, str(blocked))  # timings/ cannot be made in it
    app = identity.wsgi("tests.reliability.host_apps:wsgi_app")
    from tests.reliability.host_apps import wsgi_app

    assert _wsgi_call(app, "/a/") == _wsgi_call(wsgi_app, "/a/")
    assert _wsgi_call(app, "/b/") == _wsgi_call(wsgi_app, "/b/")


def test_record_dir_variable_is_the_one_conf_reads() -> None:
    from perftoolkit.conf import RECORD_DIR_ENV

    assert identity.RECORD_DIR_ENV == RECORD_DIR_ENV


def test_attach_active_times_resolves_paths_and_keeps_the_runs_window(tmp_path: Path) -> None:
    from perftoolkit.audit.files import attach_active_times
    from tests.support.runs import Endpoint, make_run

    run = make_run("r", [Endpoint("GET", "items/<int:pk>/", [1], 2), Endpoint("GET", "x/", [1], 1)])
    timings = tmp_path / "timings"
    timings.mkdir()
    (timings / "1.jsonl").write_text(
        '["GET", "/items/1/", 100.0, 30.0, 20.0]\n'
        '["GET", "/items/2/", 101.0, 12.0, 0.0]\n'
        '["GET", "/items/3/", 5.0, 99.0, 0.0]\n'  # before the run: a probe, an earlier run
        '["GET", "/nowhere/", 102.0, 5.0, 0.0]\n'
        '["GET", "/items/4/", 103.0, 1'  # a worker killed mid-line
    )
    routes = {"/items/1/": "items/<int:pk>/", "/items/2/": "items/<int:pk>/"}

    attached = attach_active_times(run, tmp_path, since=50.0, resolve=routes.get)

    items, other = attached.endpoints
    assert items.active.to_dict() == {"10": 1, "12": 1}
    assert not other.active
    assert attach_active_times(run, tmp_path / "none", since=None, resolve=routes.get) == run

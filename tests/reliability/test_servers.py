"""Real servers: gunicorn with 4 workers (sync, gthread, and ASGI through uvicorn's worker) on
127.0.0.1, a bounded load, then `report build` over the record directory. Every request sent is
recorded, exactly, per endpoint; a worker killed with SIGKILL mid-load, recording each line as its
request ends (RECORD_BUFFER 0), loses at most the request it was serving, and leaves every line
of its file whole."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from perftoolkit.middleware.recording import build_report

ROOT = Path(__file__).resolve().parents[2]
# path → the route the report names it by
ENDPOINTS = {"/": "/", "/items/": "items/", "/items/3/": "items/<int:pk>/", "/cached/": "cached/"}
PER_ENDPOINT = 50
WORKERS = {
    "sync": ["-k", "sync", "tests.auditsite.wsgi:application"],
    "gthread": ["-k", "gthread", "--threads", "4", "tests.auditsite.wsgi:application"],
    "asgi": ["-k", "uvicorn.workers.UvicornWorker", "tests.auditsite.asgi:application"],
}

# The audit site with RECORD_BUFFER 0 (the default holds lines, written at the workers' exit).
UNBUFFERED = "tests.auditsite.unbuffered_settings"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _gunicorn(
    kind: str, record_dir: Path, log: Path, settings: str = "tests.auditsite.settings"
) -> Iterator[tuple[str, subprocess.Popen]]:
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "PERFTOOLKIT_RECORD_DIR": str(record_dir),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}"]
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*command, *WORKERS[kind]], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while len(_workers(server.pid)) < 4 or not _answers(f"{base}/favicon.ico"):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield base, server
    finally:
        server.send_signal(signal.SIGTERM)  # graceful: workers finish what they serve
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _answers(url: str) -> bool:
    """Whether the server answers (IGNORE_PATHS leaves /favicon.ico out of the records)."""
    try:
        urllib.request.urlopen(url, timeout=2)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def _workers(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, http.client.HTTPException):
        return 0  # the connection broke (reset, no status line, a cut body): its worker was killed


def _load(base: str, kill: subprocess.Popen | None = None) -> Counter[tuple[str, int]]:
    paths = [p for p in ENDPOINTS for _ in range(PER_ENDPOINT)]
    killed = False
    results: Counter[tuple[str, int]] = Counter()
    with ThreadPoolExecutor(8) as pool:
        futures = [(p, pool.submit(_get, base + p)) for p in paths]
        for n, (path, future) in enumerate(futures):
            if kill is not None and not killed and n == len(futures) // 2:
                os.kill(_workers(kill.pid)[0], signal.SIGKILL)
                killed = True
            results[path, future.result()] += 1
    return results


def _recorded(record_dir: Path) -> dict[str, int]:
    run = build_report([record_dir])
    assert run.skipped_lines == 0
    return {e.route: e.requests for e in run.endpoints}


def _lines_whole(record_dir: Path) -> None:
    for file in record_dir.glob("*.jsonl"):
        text = file.read_text()
        assert text.endswith("\n") or not text
        for line in text.splitlines():
            json.loads(line)


@pytest.mark.parametrize("kind", list(WORKERS))
def test_every_request_sent_is_recorded(tmp_path: Path, kind: str) -> None:
    record_dir = tmp_path / "rec"
    with _gunicorn(kind, record_dir, tmp_path / "server.log") as (base, _):
        sent = _load(base)
    assert sent == Counter({(p, 200): PER_ENDPOINT for p in ENDPOINTS})
    assert _recorded(record_dir) == dict.fromkeys(ENDPOINTS.values(), PER_ENDPOINT)
    _lines_whole(record_dir)
    log = (tmp_path / "server.log").read_text()
    assert "perftoolkit" not in log, log


def test_worker_killed_mid_load(tmp_path: Path) -> None:
    record_dir = tmp_path / "rec"
    # Each line written as its request ends: a killed worker's held lines are lost with it.
    with _gunicorn("sync", record_dir, tmp_path / "server.log", UNBUFFERED) as (base, server):
        sent = _load(base, kill=server)
    _lines_whole(record_dir)
    recorded = _recorded(record_dir)  # the report builds
    for path, route in ENDPOINTS.items():
        ok = sent[path, 200]
        # A sync worker serves one request at a time: the killed one may have answered it and
        # died before its line was written (recording runs once the response is sent).
        assert ok - 1 <= recorded.get(route, 0) <= ok, (path, sent, recorded)
    assert sum(sent[p, 200] for p in ENDPOINTS) - sum(recorded.values()) <= 1


def test_record_directory_removed_while_serving(tmp_path: Path) -> None:
    """Each worker notices its file is gone at its next line, recreates the directory, warns once
    and records every later request."""
    record_dir = tmp_path / "rec"
    log = tmp_path / "server.log"
    # Each line written as its request ends: the first load's are all on disk before the removal.
    with _gunicorn("sync", record_dir, log, UNBUFFERED) as (base, _):
        assert sum(_load(base).values()) == PER_ENDPOINT * len(ENDPOINTS)
        time.sleep(0.5)  # the last lines are written once their responses were sent
        shutil.rmtree(record_dir)
        sent = _load(base)
    assert sent == Counter({(p, 200): PER_ENDPOINT for p in ENDPOINTS})
    assert _recorded(record_dir) == dict.fromkeys(ENDPOINTS.values(), PER_ENDPOINT)
    warnings = [line for line in log.read_text().splitlines() if "reopened" in line]
    assert 1 <= len(warnings) <= 4, warnings  # once per worker that served a request since

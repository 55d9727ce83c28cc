"""The target project under a real server: gunicorn (WSGI) or gunicorn with uvicorn's worker
(ASGI), on a free 127.0.0.1 port, recording every request into the audit's record directory.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from perftoolkit.audit.options import SERVER_KINDS
from perftoolkit.audit.processes import Child, free_port, spawn
from perftoolkit.audit.target import TargetProject
from perftoolkit.conf import RECORD_DIR_ENV
from perftoolkit.exceptions import LoadTestError


@dataclass(frozen=True, slots=True)
class ServerOptions:
    kind: str = "gunicorn"  # gunicorn (WSGI) | uvicorn (ASGI, uvicorn workers under gunicorn)
    workers: int = 2
    ready_timeout_s: float = 30.0
    host: str = "127.0.0.1"  # another address when Locust workers on other machines must reach it


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    child: Child


def server_argv(target: TargetProject, options: ServerOptions, port: int) -> list[str]:
    """The gunicorn command line for the target (one arbiter, `workers` worker processes)."""
    if options.kind not in SERVER_KINDS:
        raise LoadTestError(
            f"--server {options.kind!r} is not known; use one of {', '.join(SERVER_KINDS)}."
        )
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{options.host}:{port}",
        "--workers",
        str(max(1, options.workers)),
        "--chdir",
        str(target.root),
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "--graceful-timeout",
        "5",
        "--timeout",
        "120",
    ]
    if options.kind == "uvicorn":
        return [*argv, "--worker-class", _uvicorn_worker(), target.asgi_application]
    return [*argv, target.wsgi_application]


def server_environment(
    target: TargetProject, record_dir: Path, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment the server runs with: the caller's, plus the settings and the record dir."""
    env = dict(os.environ if base is None else base)
    env["DJANGO_SETTINGS_MODULE"] = target.settings_module
    env[RECORD_DIR_ENV] = str(record_dir)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(target.root), env.get("PYTHONPATH", "")) if p
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextmanager
def running_server(
    target: TargetProject,
    options: ServerOptions,
    *,
    record_dir: Path,
    log_path: Path,
) -> Iterator[Server]:
    """Start the server, wait until it answers, and stop its whole process group on exit."""
    _require("gunicorn")
    if options.kind == "uvicorn":
        _require("uvicorn")
    record_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    child = spawn(
        "server",
        server_argv(target, options, port),
        env=server_environment(target, record_dir),
        cwd=target.root,
        log_path=log_path,
    )
    try:
        url = f"http://{'127.0.0.1' if options.host in ('0.0.0.0', '::') else options.host}:{port}"
        wait_until_ready(url, child, options.ready_timeout_s)
        yield Server(url=url, child=child)
    finally:
        child.stop()


def wait_until_ready(url: str, child: Child, timeout_s: float) -> None:
    """Poll until the server answers any HTTP status; fail with its log when it dies or stalls."""
    deadline = time.monotonic() + timeout_s
    while True:
        if not child.running:
            raise LoadTestError(
                f"The {child.name} exited (code {child.poll()}) before it answered on {url}. "
                f"The end of its log ({child.log_path.name}):\n{child.tail()}"
            )
        if probe(url):
            return
        if time.monotonic() > deadline:
            raise LoadTestError(
                f"The {child.name} did not answer on {url} within {timeout_s:g} s. "
                f"The end of its log ({child.log_path.name}):\n{child.tail()}"
            )
        time.sleep(0.2)


def probe(url: str, timeout_s: float = 2.0) -> bool:
    """True when something answers HTTP at `url` (an error status counts: the server is up)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _uvicorn_worker() -> str:
    # uvicorn.workers is deprecated in favour of the uvicorn-worker package; use it when present.
    if importlib.util.find_spec("uvicorn_worker") is not None:
        return "uvicorn_worker.UvicornWorker"
    return "uvicorn.workers.UvicornWorker"


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise LoadTestError(
            f"{module} is not installed, and the audit starts the project under it. "
            "Install the audit extra: pip install 'perftoolkit[audit]'."
        )

"""The target project under a real server: gunicorn (WSGI) or gunicorn with uvicorn's worker
(ASGI), on a free 127.0.0.1 port, recording every request into the audit's record directory.

The server is known to be ours, not whatever else took the port first: its application is the
project's wrapped by `identity.py`, which answers the readiness probe with this run's nonce.
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
from typing import Literal

from perftoolkit.audit.identity import NONCE_ENV, NONCE_HEADER, READY_PATH, factory_spec, new_nonce
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
        app = factory_spec("asgi", target.asgi_application)
        return [*argv, "--worker-class", _uvicorn_worker(), app]
    return [*argv, factory_spec("wsgi", target.wsgi_application)]


def server_environment(
    target: TargetProject,
    record_dir: Path,
    base: Mapping[str, str] | None = None,
    *,
    nonce: str = "",
) -> dict[str, str]:
    """The environment the server runs with: the caller's, plus the settings, the record dir and
    the nonce it answers the readiness probe with."""
    env = dict(os.environ if base is None else base)
    env["DJANGO_SETTINGS_MODULE"] = target.settings_module
    env[RECORD_DIR_ENV] = str(record_dir)
    env[NONCE_ENV] = nonce
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
    require_server(options.kind)
    record_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    nonce = new_nonce()
    child = spawn(
        "server",
        server_argv(target, options, port),
        env=server_environment(target, record_dir, nonce=nonce),
        cwd=target.root,
        log_path=log_path,
    )
    try:
        url = f"http://{'127.0.0.1' if options.host in ('0.0.0.0', '::') else options.host}:{port}"
        wait_until_ready(url, child, options.ready_timeout_s, nonce=nonce)
        yield Server(url=url, child=child)
    finally:
        child.stop()


def wait_until_ready(url: str, child: Child, timeout_s: float, *, nonce: str) -> None:
    """Poll until the server answers the readiness probe with `nonce`. Fail with its log when it
    dies or stalls, and at once when something else answers on the port."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = identify(url, nonce)
        if answer == "ours":
            return
        if answer == "foreign":
            port = url.rsplit(":", 1)[-1]
            raise LoadTestError(
                f"Another server answers on port {port} of 127.0.0.1: it did not return this "
                f"audit's nonce at {READY_PATH}, so it is not the {child.name} the audit started "
                "(something took the port first). Nothing was measured. Run the audit again (it "
                f"picks a new port), and stop whatever listens on port {port}."
                + (f" The end of the {child.name}'s log:\n{child.tail()}" if child.tail() else "")
            )
        if not child.running:
            raise LoadTestError(
                f"The {child.name} exited (code {child.poll()}) before it answered on {url}. "
                f"The end of its log ({child.log_path.name}):\n{child.tail()}"
            )
        if time.monotonic() > deadline:
            raise LoadTestError(
                f"The {child.name} did not answer on {url} within {timeout_s:g} s. "
                f"The end of its log ({child.log_path.name}):\n{child.tail()}"
            )
        time.sleep(0.2)


def identify(url: str, nonce: str, timeout_s: float = 2.0) -> Literal["ours", "foreign", "none"]:
    """Who answers at `url`: our server (the nonce comes back), a foreign one (any other HTTP
    answer), or nothing yet."""
    try:
        with urllib.request.urlopen(url + READY_PATH, timeout=timeout_s) as response:
            header = response.headers.get(NONCE_HEADER, "")
            body = response.read(256).decode("utf-8", "replace")
    except urllib.error.HTTPError:
        return "foreign"
    except (urllib.error.URLError, OSError, ValueError):
        return "none"
    return "ours" if header == nonce and body == nonce else "foreign"


def probe(url: str, timeout_s: float = 2.0) -> bool:
    """True when something answers HTTP at `url` (an error status counts: the server is up).
    For `--url`, a server the user runs; the audit's own server is identified by `identify`."""
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


def require_server(kind: str) -> None:
    """Raise the audit's error when the server of `kind` cannot be started (checked before any
    work is done)."""
    _require("gunicorn")
    if kind == "uvicorn":
        _require("uvicorn")


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise LoadTestError(
            f"{module} is not installed, and the audit starts the project under it. "
            "Install the audit extra: pip install 'perftoolkit[audit]'."
        )

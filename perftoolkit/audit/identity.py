"""Proof that the server answering on the audit's port is the one the audit started.

The audit picks a free port and starts gunicorn on it; another process can take the port in
between and answer in its place. So the server runs the project's application wrapped by `wsgi()`
or `asgi()` (gunicorn's `module:factory(args)` form): the wrapper answers `GET READY_PATH` with the
nonce the audit put in the server's environment, and passes every other request to the project
untouched. The readiness probe asks for that path; an answer without this run's nonce comes from
a foreign server, and the audit stops with an error naming the port.

The wrapper also times every request it passes on, for the latency verdicts: its wall time, and
how much of it the thread spent waiting for a CPU (Linux's per-thread `schedstat`). Two audits of
the same code on a busy machine differ by half again in wall time; the time a request actually
ran (wall minus that wait) moves with the code, not with the machine's other work. One line per
request goes to `<record dir>/timings/<pid>.jsonl` (`[method, path, started_at, wall_ms,
wait_ms]`), read back by the audit (`files.attach_active_times`). Under ASGI many requests share
one thread, so there it times nothing.

This module is imported by the server process before Django is set up: standard library only, and
no failure of its own reaches a response.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any

NONCE_ENV = "PERFTOOLKIT_AUDIT_NONCE"
# A path no Django project routes: it cannot be one of the project's own URLs.
READY_PATH = "/__perftoolkit__/ready"
NONCE_HEADER = "X-Perftoolkit-Nonce"
# conf.RECORD_DIR_ENV, spelled out: importing perftoolkit.conf would import Django too early.
RECORD_DIR_ENV = "PERFTOOLKIT_RECORD_DIR"
TIMINGS_DIR = "timings"
SCHEDSTAT = "/proc/thread-self/schedstat"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[Any]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


def new_nonce() -> str:
    """A value no other server can know: 32 random hex digits."""
    return secrets.token_hex(16)


def factory_spec(kind: str, application: str) -> str:
    """The gunicorn APP_MODULE that runs `application` ("pkg.wsgi:application") inside the
    wrapper: `perftoolkit.audit.identity:wsgi('pkg.wsgi:application')`."""
    return f"{__name__}:{kind}({application!r})"


def wsgi(application: str) -> WSGIApp:
    """The project's WSGI application, answering the readiness probe."""
    inner: WSGIApp = _load(application)
    body = _nonce().encode()
    headers = _headers(body)

    timings = Timings()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == READY_PATH and environ.get("REQUEST_METHOD") == "GET":
            start_response("200 OK", [(k.decode(), v.decode()) for k, v in headers])
            return [body]
        mark = timings.start()
        try:
            return inner(environ, start_response)
        finally:
            timings.stop(mark, environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))

    return app


def asgi(application: str) -> ASGIApp:
    """The project's ASGI application, answering the readiness probe."""
    inner: ASGIApp = _load(application)
    body = _nonce().encode()
    headers = _headers(body)

    async def app(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if (
            scope.get("type") == "http"
            and scope.get("path") == READY_PATH
            and scope.get("method") == "GET"
        ):
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await inner(scope, receive, send)

    return app


class Timings:
    """Each request's wall time and CPU wait, one line per request in this process's file.

    Off (silently) where the thread's schedstat cannot be read or no record directory is set;
    off for good after any failure of its own, so the requests go on untouched."""

    def __init__(self, record_dir: str | None = None) -> None:
        self.directory = record_dir if record_dir is not None else os.environ.get(RECORD_DIR_ENV)
        self.on = bool(self.directory) and _cpu_wait_ns() is not None
        self._fd: int | None = None
        self._pid = 0

    def start(self) -> tuple[float, float, int] | None:
        if not self.on:
            return None
        try:
            wait = _cpu_wait_ns()
            if wait is None:
                self.on = False
                return None
            return (time.time(), time.perf_counter(), wait)
        except Exception:
            self.on = False
            return None

    def stop(self, mark: tuple[float, float, int] | None, method: Any, path: Any) -> None:
        if mark is None or not self.on:
            return
        try:
            wall = (time.perf_counter() - mark[1]) * 1000.0
            wait = _cpu_wait_ns()
            if wait is None:
                self.on = False
                return
            line = [str(method), str(path), round(mark[0], 6), round(wall, 3)]
            line.append(round(min(wall, (wait - mark[2]) / 1e6), 3))
            os.write(self._file(), (json.dumps(line) + "\n").encode())
        except Exception:
            self.on = False

    def _file(self) -> int:
        # gunicorn forks its workers after the application is loaded: one file per worker.
        if self._fd is None or self._pid != os.getpid():
            directory = Path(str(self.directory)) / TIMINGS_DIR
            directory.mkdir(parents=True, exist_ok=True)
            self._pid = os.getpid()
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
            self._fd = os.open(directory / f"{self._pid}.jsonl", flags, 0o600)
        return self._fd


def _cpu_wait_ns() -> int | None:
    """Nanoseconds this thread has spent runnable but waiting for a CPU (None off Linux)."""
    try:
        with open(SCHEDSTAT, "rb") as handle:
            return int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _nonce() -> str:
    nonce = os.environ.get(NONCE_ENV, "")
    if not nonce:
        raise RuntimeError(
            f"{NONCE_ENV} is not set: this wrapper is started by perftoolkit's audit, which sets it."
        )
    return nonce


def _headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (NONCE_HEADER.lower().encode(), body),
    ]


def _load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name or "application")

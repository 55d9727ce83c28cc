"""Proof that the server answering on the audit's port is the one the audit started.

The audit picks a free port and starts gunicorn on it; another process can take the port in
between and answer in its place. So the server runs the project's application wrapped by `wsgi()`
or `asgi()` (gunicorn's `module:factory(args)` form): the wrapper answers `GET READY_PATH` with the
nonce the audit put in the server's environment, and passes every other request to the project
untouched. The readiness probe asks for that path; an answer without this run's nonce comes from
a foreign server, and the audit stops with an error naming the port.

This module is imported by the server process before Django is set up: standard library only.
"""

from __future__ import annotations

import importlib
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

NONCE_ENV = "PERFTOOLKIT_AUDIT_NONCE"
# A path no Django project routes: it cannot be one of the project's own URLs.
READY_PATH = "/__perftoolkit__/ready"
NONCE_HEADER = "X-Perftoolkit-Nonce"

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

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == READY_PATH and environ.get("REQUEST_METHOD") == "GET":
            start_response("200 OK", [(k.decode(), v.decode()) for k, v in headers])
            return [body]
        return inner(environ, start_response)

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

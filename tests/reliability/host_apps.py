"""Stand-ins for a host project's applications: they answer every request (any path, any
method, lifespan too) with something recognisable, so a wrapper can be shown to pass it through."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = f"host {environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()
    start_response("418 I'm a teapot", [("X-Host", "yes"), ("Content-Length", str(len(body)))])
    return [body]


async def asgi_app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[Any]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] == "lifespan":
        await send({"type": "lifespan.startup.complete"})
        return
    body = f"host {scope['method']} {scope['path']}".encode()
    await send({"type": "http.response.start", "status": 418, "headers": [(b"x-host", b"yes")]})
    await send({"type": "http.response.body", "body": body})

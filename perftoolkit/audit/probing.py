"""Each path of a scaffolded profile asked once before it goes in.

The values that fill a route come from real rows, but a row can still make a poor example: a
chooser that expects another kind of object, a `find/` endpoint that needs a query string, a
test page that raises on purpose. A profile holding such paths would only fail under load (and an
audit with failures over --max-failure-rate is incomplete), so every GET path is requested once,
the way the profile's users will (same login, redirects followed), inside transactions that are
rolled back; a path that ends at 4xx or 5xx, in a redirect loop or off the site is left out, and a
route left with none is listed with the answer it got.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.signals import request_finished
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.test import Client

from perftoolkit.conf import override_mode
from perftoolkit.core.runs.profiles import ProfileLogin, ProfileTask, SkippedRoute
from perftoolkit.middleware.capture.frames import raised_at
from perftoolkit.middleware.capture.rollback import rolled_back

logger = logging.getLogger("perftoolkit")
_MAX_REDIRECTS = 5


def probe_tasks(
    tasks: Sequence[ProfileTask], login: ProfileLogin
) -> tuple[list[ProfileTask], list[SkippedRoute]]:
    """The tasks with only the GET paths that answered below 400, and the routes left with none."""
    client = Client(raise_request_exception=False, SERVER_NAME=_host(), headers=dict(login.headers))
    for name, value in login.cookies:
        client.cookies[name] = value
    kept: list[ProfileTask] = []
    skipped: list[SkippedRoute] = []
    # The scaffold's own requests are neither findings of the project nor errors of its logs.
    with override_mode("off"), _quiet("django.request"), _quiet("django.server"):
        for task in tasks:
            if task.method != "GET":
                kept.append(task)
                continue
            answers = [(path, *_status(client, path)) for path in task.paths]
            good = tuple(
                path for path, status, _ in answers if isinstance(status, int) and status < 400
            )
            if good:
                kept.append(task if len(good) == len(task.paths) else replace(task, paths=good))
            else:
                path, status, raised = answers[0]
                why = f" ({raised})" if raised else ""
                skipped.append(
                    SkippedRoute(
                        task.method,
                        task.route,
                        f"{'answered' if isinstance(status, int) else 'ended in'} {status}{why} "
                        f"at {path} with the values found (asked once when "
                        "the profile was written)",
                    )
                )
    return kept, skipped


def _status(client: Client, path: str) -> tuple[int | str, str]:
    """The status the path ends at, following redirects as Locust's client does (a redirect
    loop or one that leaves the site is an answer of its own: a load test must not chase it),
    and what the view raised, if it did."""
    seen = {path}
    for _ in range(_MAX_REDIRECTS):
        with _rolled_back():
            try:
                response = client.get(path)
            except Exception as exc:  # the client itself failed (a broken middleware, say)
                logger.debug("perftoolkit: scaffold probe of %s failed", path, exc_info=True)
                return 500, raised_at(exc)
            status = int(response.status_code)
            exc_info = getattr(response, "exc_info", None)
            raised = raised_at(exc_info[1]) if exc_info and exc_info[1] is not None else ""
            location = response.get("Location", "") if 300 <= status < 400 else ""
            _close(response)
        if not location:
            return status, raised
        target = urlsplit(urljoin(f"http://{_host()}{path}", location))
        if target.hostname not in (_host(), None):
            return f"a redirect off the site (to {target.hostname})", ""
        path = target.path + (f"?{target.query}" if target.query else "")
        if path in seen:
            return "a redirect loop", ""
        seen.add(path)
    return f"more than {_MAX_REDIRECTS} redirects", ""


def _close(response: Any) -> None:
    """Close a response the client left open (a stream not read), as the test client closes the
    others: without Django's close_old_connections, which would close a connection in a
    transaction (the probe's), and so every later probe's."""
    if getattr(response, "closed", False):
        return
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _rolled_back() -> AbstractContextManager[None]:
    """Whatever a GET writes (a session, a counter, a rendition) is undone, on the default
    database and every other one this process has connected to (the scaffold read its rows
    there)."""
    return rolled_back(
        {DEFAULT_DB_ALIAS}
        | {c.alias for c in connections.all(initialized_only=True) if c.connection is not None}
    )


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    log = logging.getLogger(name)
    level = log.level
    log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        log.setLevel(level)


def _host() -> str:
    """A host name the project accepts (ALLOWED_HOSTS), as its users' requests would carry."""
    for host in getattr(settings, "ALLOWED_HOSTS", []) or []:
        name = str(host).lstrip(".")
        if name and name != "*" and "*" not in name:
            return name.split(":")[0]
    return "localhost"

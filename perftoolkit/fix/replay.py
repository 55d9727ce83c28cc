"""Replay recorded requests in a child process and report, for each, its query count and a digest
of its response.

A child per attempt, because an edited module must be imported fresh and Django's URL
resolver, serializers and apps keep references to the old one: `python -m
perftoolkit.fix.replay JOB OUT` reads the job (project directory, edited sources, requests),
serves the edited sources in place of the files on disk (an import hook; the files are not
touched), and runs each request twice through Django's test client, as the recorded user, with
empty process-local caches (CACHES replaced by local memory), each time in a transaction rolled
back afterwards: the first warms what a process keeps (content types, templates), the second is
counted with perftoolkit's capture, and the two responses must be equal for the request to be
judged at all. With a directory for them, each normalised body is kept there under its digest,
once, for the parent to say where two responses differ.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import CodeType
from typing import Any


class _OverlayLoader(importlib.machinery.SourceFileLoader):
    """Loads a module from edited text while it keeps the file's path (tracebacks, __file__);
    compiles it directly, so neither a stale nor a new .pyc of the file is involved."""

    def __init__(self, fullname: str, path: str, text: str) -> None:
        super().__init__(fullname, path)
        self.text = text

    def get_data(self, path: str) -> bytes:
        if path == self.path:
            return self.text.encode()
        return super().get_data(path)

    def get_code(self, fullname: str) -> CodeType:
        return compile(self.text, self.path, "exec", dont_inherit=True)


class _OverlayFinder(importlib.abc.MetaPathFinder):
    def __init__(self, files: dict[str, str]) -> None:
        self.files = {os.path.realpath(path): text for path, text in files.items()}

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: Any = None) -> Any:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin:
            return None
        text = self.files.get(os.path.realpath(spec.origin))
        if text is None:
            return None
        spec.loader = _OverlayLoader(fullname, spec.origin, text)
        return spec


def main(argv: Sequence[str] | None = None) -> int:
    job_path, out_path = argv if argv is not None else sys.argv[1:3]
    job = json.loads(Path(job_path).read_text())
    sys.path.insert(0, job["project_dir"])
    sys.meta_path.insert(0, _OverlayFinder(job["overlay"]))
    _stop_clock(job.get("clock"))
    try:
        import django

        django.setup()
        results = _replay(job["requests"], job.get("bodies"))
        output: dict[str, Any] = {"results": results}
    except Exception as exc:  # the edited code may not even import: that is the answer
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" ({last[0].filename}:{last[0].lineno})" if last else ""
        output = {"error": f"{type(exc).__name__}: {exc}{where}"}
    Path(out_path).write_text(json.dumps(output))
    return 0


def _stop_clock(clock: float | None) -> None:
    """Hold the project's clock at `clock` for the whole process (time.time, datetime.now…;
    not the monotonic clocks durations are measured with), when time-machine is installed."""
    if clock is None:
        return
    try:
        import time_machine
    except ImportError:
        return
    time_machine.travel(clock, tick=False).start()


def _replay(requests: list[dict[str, Any]], bodies: str | None = None) -> list[dict[str, Any]]:
    from django.conf import settings
    from django.test.utils import override_settings

    from perftoolkit.conf import raw_settings
    from perftoolkit.core.fix.responses import compile_volatile

    quiet = {**raw_settings(), "MODE": "off"}
    quiet.pop("RECORD_DIR", None)
    volatile = compile_volatile(raw_settings().get("VOLATILE", ()))
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    # Every cache local to this process and emptied before each run: a response cached by the
    # warm-up would hide the queries the fix is about, and a shared cache (Redis, memcached) is
    # not ours to fill or clear.
    caches = local_caches(settings.CACHES)
    out = []
    with override_settings(PERFTOOLKIT=quiet, ALLOWED_HOSTS=hosts, CACHES=caches):
        for request in requests:
            runs = [_run(request, volatile, bodies) for _ in range(2)]
            (_, first, _, _), (queries, second, error, sites) = runs
            out.append(
                {
                    "queries": queries,
                    "sites": sites,
                    "key": second.to_dict() if second is not None else None,
                    "stable": first == second,
                    # what the first run answered, when the second answered otherwise
                    "first": first.to_dict() if first is not None and first != second else None,
                    "error": error or runs[0][2],
                }
            )
    return out


def local_caches(configured: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The project's caches, each a local-memory cache of its own: the backend and its location
    change, every other key (`TIMEOUT`, `KEY_PREFIX`, `OPTIONS`…) stays, since project code may
    read them (`settings.CACHES["default"]["TIMEOUT"]` in a context processor) and a key it
    reads that is gone would make every page an error."""
    return {
        alias: {
            **options,
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": alias,
        }
        for alias, options in configured.items()
    }


def _run(
    request: dict[str, Any], volatile: Any, bodies: str | None = None
) -> tuple[int | None, Any, str, dict[str, int]]:
    """One run of `request`: its query count, response key, error and queries by line; with
    `bodies` (a directory), the normalised body is kept there under its digest, for the parent
    to say where two responses differ."""
    from django.core.cache import caches
    from django.db import connections

    from perftoolkit.core.fix.responses import keyed, normalised_body
    from perftoolkit.middleware.capture.capture import capture_queries
    from perftoolkit.middleware.capture.frames import raised_at
    from perftoolkit.middleware.capture.rollback import rolled_back

    for cache in caches.all(initialized_only=True):
        cache.clear()
    with rolled_back(connections):
        try:
            client = _client(request.get("user"))
            target = request["path"] + (f"?{request['query']}" if request.get("query") else "")
            started = _clocks()
            with capture_queries(track_cache=False, track_access=False) as capture:
                response = client.generic(request["method"], target)
                body = b"".join(
                    response.streaming_content if response.streaming else [response.content]
                )
            now = list(zip(started, _clocks(), strict=True))
            kind, data = normalised_body(response.get("Content-Type", ""), body, volatile, now)
            key = keyed(
                response.status_code,
                kind,
                data,
                len(body),
                location=response.get("Location", "") if 300 <= response.status_code < 400 else "",
            )
            raised = getattr(response, "exc_info", None)
            if raised and raised[1] is not None:
                key = replace(key, exception=raised_at(raised[1]))
            if bodies is not None:
                _keep(Path(bodies) / key.digest, data)
            if capture.error is not None:  # a partial count would pass for a smaller one
                return None, key, f"perftoolkit's capture failed ({capture.error})", {}
            sites: dict[str, int] = {}
            for query in capture.queries:
                if query.callsite is not None:
                    where = f"{query.callsite.file}:{query.callsite.line}"
                    sites[where] = sites.get(where, 0) + 1
            return len(capture.queries), key, "", sites
        except Exception as exc:
            return None, None, f"{type(exc).__name__}: {exc}", {}


def _keep(path: Path, data: bytes) -> None:
    if not path.exists():
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        scratch.write_bytes(data)
        scratch.replace(path)


def _clocks() -> list[datetime]:
    """The time now as a response may render it, naive: in UTC, in the project's time zone and
    in the machine's."""
    from django.utils import timezone

    utc = datetime.now(UTC)
    return [
        utc.replace(tzinfo=None),
        timezone.localtime(utc).replace(tzinfo=None),
        datetime.now(),
    ]


def _client(user_id: Any) -> Any:
    from django.apps import apps
    from django.test import Client

    try:
        from rest_framework.test import APIClient
    except ImportError:
        client: Any = Client(raise_request_exception=False)
    else:
        client = APIClient(raise_request_exception=False)
    if user_id is None:
        return client
    from django.contrib.auth import get_user_model

    user = get_user_model()._default_manager.get(pk=user_id)
    if apps.is_installed("django.contrib.sessions"):
        with _no_last_login():
            client.force_login(user)
    if hasattr(client, "force_authenticate"):
        client.force_authenticate(user=user)
    return client


@contextmanager
def _no_last_login() -> Iterator[None]:
    """A replayed login must not move the user's last_login: responses that show it would differ
    between two runs of the same code."""
    from django.contrib.auth import user_logged_in
    from django.contrib.auth.models import update_last_login

    connected = user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    try:
        yield
    finally:
        if connected:
            user_logged_in.connect(update_last_login, dispatch_uid="update_last_login")


if __name__ == "__main__":
    sys.exit(main())

"""django-silk's stored requests → a perftoolkit report: `manage.py perf_report from-silk`.

Silk keeps every request it profiled (`silk.models.Request`) with its SQL (`SQLQuery`) in the
project's database. This reads them through silk's models, turns each request into a
`RequestProfile` and builds the run with the project's detectors and ignore rules, exactly as
`perf_report build` does for a record directory — so a team gets findings on last week's traffic.

What silk did not store, and what that costs (said in the report's notes too):
- which ORM relation fired a query, the queryset's model and its eager loads: N+1s are found by
  statement shape and line, but name no model or relation and carry no exact fix; unused eager
  loads cannot be seen;
- the line that ran a query, unless its traceback is kept: silk's traceback (kept by default)
  gives the callsite and the rows' origin, without it neither;
- parameters apart from the statement: silk writes the values into the SQL (strings unquoted),
  so numbers and quoted strings are replaced by `?` here but an unquoted string may remain;
- cache gets and hits; the route pattern (resolved again from the path through the URLconf, so
  route keyers such as Wagtail's do not apply).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.urls import Resolver404, resolve

from perftoolkit.core.budgets.rules import UNMATCHED_ROUTE
from perftoolkit.core.events import CallSite, QueryEvent, RequestProfile
from perftoolkit.core.fingerprint import fingerprint, normalize
from perftoolkit.core.options import option
from perftoolkit.core.runs.run import AuditRun, build_run
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.middleware.capture.frames import Kind, classify, relative_path
from perftoolkit.middleware.detectors import detection_options, detectors
from perftoolkit.middleware.ignoring import finding_filter
from perftoolkit.reporting.schema import REPORT_FILE
from perftoolkit.urlconf import match_key

NOT_STORED = (
    "Imported from django-silk, which does not store which ORM relation ran a query, the "
    "queryset's model or its eager loads: N+1 findings name the repeated statement and its line "
    "but no model, relation or exact fix, and unused eager loads cannot be found. Silk stores no "
    "cache statistics, and routes were resolved again from the paths (route keyers do not apply)."
)
NO_TRACEBACK = (
    "{n} of {total} statements had no traceback in silk (or none with a frame of the project): "
    "they have no callsite, so their findings have no callsite and no origin."
)
PARAMETERS = (
    "silk writes parameter values into the SQL it stores (strings unquoted): numbers and quoted "
    "strings were replaced by ?, but an unquoted string value may remain in queries[].sql and "
    "findings[].sql_example. Check before publishing this report."
)
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>.+)$')
_DURATION = re.compile(r"^(?P<n>\d+)(?P<unit>[mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SILK_SQL = os.path.join("silk", "sql.py")
# perftoolkit's own frames (the middleware, when it runs beside silk) are never a callsite.
_PACKAGE = os.path.realpath(os.path.dirname(os.path.dirname(__file__))) + os.sep


@dataclass(frozen=True, slots=True)
class SilkImportOptions:
    """`manage.py perf_report from-silk`: which of silk's stored requests, and where to write."""

    since: str | None = option(
        None, "Only requests from then on: a date (2026-11-20) or an age (30m, 12h, 7d, 2w)."
    )
    path_prefix: str | None = option(None, "Only requests whose path starts with this.")
    output: Path = option(
        Path(REPORT_FILE), "Where to write report.json.", flags=("--output", "-o")
    )
    label: str = option("silk", "Name of the run.")


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """`--since`: an ISO date or time (`2026-11-20`, `2026-11-20T09:30`, UTC unless it says) or
    a duration back from now (`30m`, `12h`, `7d`, `2w`)."""
    now = now or datetime.now(UTC)
    value = text.strip()
    if match := _DURATION.match(value):
        return now - timedelta(**{_UNITS[match["unit"]]: int(match["n"])})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(
            f"--since {text!r} is neither a date nor a duration: give 2026-11-20, "
            "2026-11-20T09:30 or a duration such as 12h or 7d."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class SilkImport:
    profiles: list[RequestProfile]
    statements: int = 0
    without_callsite: int = 0

    @property
    def notes(self) -> list[str]:
        notes = [NOT_STORED, PARAMETERS]
        if self.without_callsite:
            notes.append(NO_TRACEBACK.format(n=self.without_callsite, total=self.statements))
        return notes


def read_silk(since: datetime | None = None, path_prefix: str | None = None) -> SilkImport:
    """Silk's requests (oldest first) as request profiles, through silk's models."""
    try:
        from silk.models import Request
    except (ImportError, RuntimeError) as exc:
        raise ConfigurationError(
            f"django-silk is not installed in this project ({exc}): add 'silk' to "
            "INSTALLED_APPS (pip install django-silk), or use `perf_report build` on a record "
            "directory."
        ) from None
    requests = Request.objects.order_by("start_time", "id").prefetch_related("queries")
    if since is not None:
        requests = requests.filter(start_time__gte=since)
    if path_prefix:
        requests = requests.filter(path__startswith=path_prefix)
    result = SilkImport(profiles=[])
    key = os.urandom(16)  # duplicates compare within one request; the hash means nothing outside
    statuses = _statuses(requests)
    for request in requests:
        queries = list(_queries(request.queries.all(), key, result))
        method, route, view = _endpoint(request)
        started = request.start_time.timestamp()
        result.profiles.append(
            RequestProfile(
                method=method,
                route=route,
                view=view,
                status=statuses.get(str(request.pk), 200),
                started_at=started,
                duration_ms=float(request.time_taken or 0.0),
                queries=tuple(queries),
            )
        )
    return result


def _statuses(requests: Any) -> dict[str, int]:
    from silk.models import Response

    ids = requests.values("pk")
    return {
        str(request_id): int(status)
        for request_id, status in Response.objects.filter(request__in=ids).values_list(
            "request_id", "status_code"
        )
    }


def _endpoint(request: Any) -> tuple[str, str, str]:
    method = str(request.method or "GET").upper()
    try:
        match = resolve(request.path)
    except Resolver404:
        return method, UNMATCHED_ROUTE, str(request.view_name or "")
    return method, match_key(match), str(match._func_path)


def _queries(rows: Iterable[Any], key: bytes, result: SilkImport) -> Iterator[QueryEvent]:
    for row in sorted(rows, key=lambda q: (q.start_time or datetime.min.replace(tzinfo=UTC), q.pk)):
        raw = str(row.query)
        text = normalize(raw)
        site = callsite_from_traceback(str(row.traceback or ""))
        result.statements += 1
        result.without_callsite += site is None
        yield QueryEvent(
            sql=text,
            fingerprint=fingerprint(text),
            ms=float(row.time_taken or 0.0),
            callsite=site,
            params_key=hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()[:16],
        )


def callsite_from_traceback(traceback: str) -> CallSite | None:
    """The most recent frame of the project's own code in a silk traceback (silk writes the
    stack most recent first), relative to the project root; None when there is none."""
    lines = traceback.splitlines()
    frames = [m for m in (_FRAME.match(line) for line in lines) if m]
    if frames and _newest_last(frames):
        frames.reverse()
    for n, frame in enumerate(frames):
        file = frame["file"]
        if classify(file) == Kind.PROJECT and not _ours(file):
            function = frame["function"].strip()
            # A comprehension or lambda: name the function it is written in, as the middleware does.
            for outer in frames[n + 1 :] if function.startswith("<") else ():
                if outer["file"] != file:
                    break
                if not outer["function"].startswith("<"):
                    function = outer["function"].strip()
                    break
            return CallSite(relative_path(file), int(frame["line"]), function)
    return None


def _newest_last(frames: list[re.Match[str]]) -> bool:
    """Silk writes the newest frame (its own `silk/sql.py`) first; a traceback in Python's own
    order ends with it instead."""
    return frames[-1]["file"].endswith(_SILK_SQL) and not frames[0]["file"].endswith(_SILK_SQL)


def _ours(file: str) -> bool:
    return os.path.realpath(file).startswith(_PACKAGE)


def build_silk_report(
    *, since: datetime | None = None, path_prefix: str | None = None, label: str = "silk"
) -> AuditRun:
    """The run of silk's stored requests, with the project's detectors and ignore rules."""
    imported = read_silk(since, path_prefix)
    profiles = imported.profiles
    now = time.time()
    started = min((p.started_at for p in profiles), default=now)
    finished = max((p.started_at + p.duration_ms / 1000 for p in profiles), default=started)
    notes = imported.notes
    if not profiles:
        notes.insert(0, "silk holds no request" + _filters(since, path_prefix) + ".")
    return build_run(
        profiles,
        label=label,
        started_at=started,
        finished_at=finished,
        environment={"source": "django-silk"},
        detectors=detectors(),
        options=detection_options(),
        notes=notes,
        ignore=finding_filter(),
    )


def _filters(since: datetime | None, path_prefix: str | None) -> str:
    parts = []
    if since is not None:
        parts.append(f"since {since.isoformat(timespec='seconds')}")
    if path_prefix:
        parts.append(f"under {path_prefix}")
    return (" " + " and ".join(parts)) if parts else ""

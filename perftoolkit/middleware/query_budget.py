"""QueryBudgetMiddleware: capture every query of a request and act on what it shows.

Sync and async capable (the cors-headers shape); every decision is in one sync helper. Analysis
and recording run after the response has been sent (through the response's closers), except in
`raise` mode, where the test needs the answer before the response is returned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache, partial
from random import random
from time import perf_counter
from typing import Any, NamedTuple

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import LazyObject, empty

from perftoolkit.conf import current_mode, get_settings
from perftoolkit.core.diagnosis import DEFAULT_DETECTORS
from perftoolkit.core.diagnosis.writes import WRITE_KINDS
from perftoolkit.core.events import RequestProfile
from perftoolkit.core.findings import Finding
from perftoolkit.core.fingerprint import statement_kind
from perftoolkit.core.routes import route_key
from perftoolkit.exceptions import NPlusOneDetected
from perftoolkit.middleware.capture.capture import QueryCapture, RawQuery, TimingCapture
from perftoolkit.middleware.capture.profile import build_profile, profile_dict
from perftoolkit.middleware.detectors import diagnose
from perftoolkit.middleware.recorder import recorder_for
from perftoolkit.middleware.report_line import describe
from perftoolkit.signals import findings_detected
from perftoolkit.urlconf import keyed_route

logger = logging.getLogger("perftoolkit")
GetResponse = Callable[[HttpRequest], Any]
UNMATCHED_ROUTE = "<unmatched>"


class _Request(NamedTuple):
    method: str
    route: str
    view: str
    status: int
    started_at: float
    duration_ms: float
    view_class: Any
    path: str
    query_string: str
    user: Any


class QueryBudgetMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            # Mark the instance async, but switch inside __call__ (no dunder swapping).
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self.__acall__(request)
        mode = _mode_for(request)
        capture = _new_capture(mode)
        if capture is None:
            response: HttpResponseBase = self.get_response(request)
            return response
        assert mode is not None
        started, start = time.time(), perf_counter()
        capture.activate()
        try:
            _guard(mode, capture.install)
            try:
                response = self.get_response(request)
            finally:
                _guard(mode, capture.uninstall)
        finally:
            capture.deactivate()
        return self._finish(request, response, capture, mode, started, start)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        mode = _mode_for(request)
        capture = _new_capture(mode)
        if capture is None:
            response: HttpResponseBase = await self.get_response(request)
            return response
        assert mode is not None
        started, start = time.time(), perf_counter()
        capture.activate()
        try:
            # Connections are thread-local: hook them in the thread that runs this request's ORM.
            await sync_to_async(_guard, thread_sensitive=True)(mode, capture.install)
            try:
                response = await self.get_response(request)
            finally:
                await sync_to_async(_guard, thread_sensitive=True)(mode, capture.uninstall)
        finally:
            capture.deactivate()
        return self._finish(request, response, capture, mode, started, start)

    def _finish(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        capture: QueryCapture,
        mode: str,
        started: float,
        start: float,
    ) -> HttpResponseBase:
        info = _describe_request(request, response, started, (perf_counter() - start) * 1000.0)
        if mode == "header":
            _set_headers(response, capture)
        if mode == "raise":
            _after_response(capture, info, mode)
            return response
        closers = getattr(response, "_resource_closers", None)
        job = partial(_after_response, capture, info, mode)
        if isinstance(closers, list):
            closers.append(job)  # runs once the server has sent the response
        else:
            job()
        return response


def _mode_for(request: HttpRequest) -> str | None:
    """The mode for this request, or None when perftoolkit should not look at it at all."""
    conf = get_settings()
    mode = current_mode()
    if mode == "off" and not conf.recording:
        return None
    if conf.ignores(request.path_info):  # IGNORE_PATHS, compiled once when the settings load
        return None
    return mode


def _new_capture(mode: str | None) -> QueryCapture | None:
    """The capture for this request, or None when it is not measured at all. SAMPLE_RATE is
    decided here, once, before any capture work: a request that is not sampled gets no capture
    (or, with SLOW_REQUEST_MS set, a timing-only one, kept if the request turns out slow)."""
    if mode is None:
        return None
    conf = get_settings()
    rate = conf.sample_rate
    if rate >= 1.0 or mode == "raise" or random() < rate:
        return QueryCapture(track_cache=conf.cache, track_access=True)
    if conf.slow_request_ms is None:
        return None
    return TimingCapture()


_failed_once = False


def _guard(mode: str, action: Callable[[], None]) -> None:
    """Run instrumentation; outside `raise` mode a failure is logged once and the request goes on."""
    if mode == "raise":
        action()
        return
    try:
        action()
    except Exception:
        _log_failure()


def _log_failure() -> None:
    global _failed_once
    if not _failed_once:
        _failed_once = True
        logger.exception(
            "perftoolkit: internal error; the request goes on unmeasured (logged once)"
        )
    else:
        logger.debug("perftoolkit: internal error", exc_info=True)


def _describe_request(
    request: HttpRequest, response: HttpResponseBase, started: float, duration_ms: float
) -> _Request:
    match = getattr(request, "resolver_match", None)
    # A route keyer (Wagtail's page class…) names catch-all routes; None when none applies.
    route = (
        (keyed_route(request, match) or route_key(match.route))
        if match is not None
        else UNMATCHED_ROUTE
    )
    func = getattr(match, "func", None)
    view_class = getattr(func, "cls", None) or getattr(func, "view_class", None)
    return _Request(
        method=request.method or "GET",
        route=route,
        view=str(getattr(match, "_func_path", "")) if match is not None else "",
        status=response.status_code,
        started_at=started,
        duration_ms=duration_ms,
        view_class=view_class,
        path=request.path_info,
        query_string=request.META.get("QUERY_STRING", ""),
        user=_user_id(request),
    )


def _user_id(request: HttpRequest) -> Any:
    """The authenticated user's pk, read only if the request already loaded the user (Django's
    cached lazy user, or the user DRF's authentication set): never a query of our own."""
    user = getattr(request, "_cached_user", None)
    if user is None:
        user = request.__dict__.get("user")
        if isinstance(user, LazyObject):
            user = getattr(user, "_wrapped", None)
    if user is None or user is empty or not getattr(user, "is_authenticated", False):
        return None
    pk = getattr(user, "pk", None)
    return pk if pk is None or isinstance(pk, int) else str(pk)  # a UUID pk as its text


def _set_headers(response: HttpResponseBase, capture: QueryCapture) -> None:
    count = len(capture.queries)
    db_ms = sum(q.ms for q in capture.queries)
    timing = f'db;dur={db_ms:.1f};desc="{count} queries"'
    existing = response.get("Server-Timing")
    response["Server-Timing"] = f"{existing}, {timing}" if existing else timing
    response["X-Perf-Queries"] = str(count)


def _after_response(capture: QueryCapture, info: _Request, mode: str) -> None:
    try:
        _analyse_and_record(capture, info, mode)
    except NPlusOneDetected:
        raise
    except Exception:
        if mode == "raise":
            raise
        _log_failure()


def _analyse_and_record(capture: QueryCapture, info: _Request, mode: str) -> None:
    request = info._asdict()
    conf = get_settings()
    if isinstance(capture, TimingCapture):
        # Not sampled: recorded only when slow, with its statements and times but no callsites.
        slow = conf.slow_request_ms
        if slow is not None and info.duration_ms > slow and conf.recording and conf.record_dir:
            line = profile_dict(capture, **request)
            recorder_for(conf.record_dir).record(line, capture.queries)
        return
    detect = mode in ("log", "raise") and (
        conf.detectors != DEFAULT_DETECTORS or not _nothing_to_find(capture.queries)
    )
    profile = build_profile(capture, **request) if detect else None
    if conf.recording and conf.record_dir:
        line = profile.to_dict() if profile is not None else profile_dict(capture, **request)
        recorder_for(conf.record_dir).record(line, capture.queries)
    if profile is None:
        return
    findings, ignored = diagnose(profile)
    if ignored and mode == "log":
        rules = sorted({i.rule for i in ignored})
        logger.info(
            "perftoolkit: %s %s: %d finding(s) ignored (%s)",
            profile.method,
            profile.route,
            len(ignored),
            ", ".join(rules),
        )
    if not findings:
        return
    findings_detected.send(sender=QueryBudgetMiddleware, profile=profile, findings=findings)
    if mode == "log":
        for finding in findings:
            logger.warning("perftoolkit: %s", describe(finding))
        return
    failing = [f for f in findings if f.kind in conf.raise_on]
    if failing:
        raise NPlusOneDetected(_raise_message(profile, failing))


def _nothing_to_find(queries: list[RawQuery]) -> bool:
    """Whether the built-in detectors cannot fire: each needs two statements (N+1, duplicates,
    at least 2 by the settings' rules), a write (write on read) or an eager load (unused eager
    loads). Then the profile is not built at all."""
    if len(queries) > 1:
        return False
    return all(not q.eager and _kind(q.sql) not in WRITE_KINDS for q in queries)


_kind = lru_cache(maxsize=4096)(statement_kind)  # once per statement text


def _raise_message(profile: RequestProfile, findings: list[Finding]) -> str:
    lines = [
        f"{profile.method} {profile.route} ran {len(profile.queries)} queries "
        f"and shows {len(findings)} problem{'s' if len(findings) != 1 else ''}:"
    ]
    lines.extend(f"  - {describe(f)}" for f in findings)
    return "\n".join(lines)

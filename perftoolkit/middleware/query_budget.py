"""QueryBudgetMiddleware: capture every query of a request and act on what it shows.

Sync and async capable (the cors-headers shape); every decision is in one sync helper. Analysis
and recording run after the response has been sent (through the response's closers), except in
`raise` mode, where the test needs the answer before the response is returned.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache, partial
from random import random
from time import perf_counter_ns, time_ns
from typing import Any, NamedTuple

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import LazyObject, empty

from perftoolkit.conf import (
    PerfToolkitSettings,
    get_settings,
    mode_override,
    on_settings_reset,
)
from perftoolkit.core.diagnosis import DEFAULT_DETECTORS
from perftoolkit.core.events import (
    RequestProfile,
    add_request_target,
    request_target,
    round3,
    round6,
)
from perftoolkit.core.findings import Finding
from perftoolkit.core.fingerprint import WRITE_KINDS, statement_kind
from perftoolkit.core.routes import route_key
from perftoolkit.exceptions import NPlusOneDetected
from perftoolkit.middleware.capture import capture as capture_module
from perftoolkit.middleware.capture.capture import QueryCapture, RawQuery, TimingCapture
from perftoolkit.middleware.capture.context import current as _active
from perftoolkit.middleware.capture.failures import failed
from perftoolkit.middleware.capture.profile import (
    build_profile,
    known_line,
    profile_line,
    shape_key,
)
from perftoolkit.middleware.detectors import Diagnosis, ShapeDiagnoses, diagnose
from perftoolkit.middleware.recorder import LineBuilder, encode_line, recorder_for
from perftoolkit.middleware.report_line import describe
from perftoolkit.signals import findings_detected
from perftoolkit.urlconf import keyed_route, keys_view, without_language

logger = logging.getLogger("perftoolkit")
GetResponse = Callable[[HttpRequest], Any]
UNMATCHED_ROUTE = "<unmatched>"


# Requests of more queries than this have their line built after the response (and held as
# bytes): held whole, their captured queries cost the garbage collector more than building the
# line together with others saves (`benchmarks/README.md`).
_HELD_QUERIES_MAX = 8


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
        # LOGGING with `disable_existing_loggers: True` disables every logger created before it
        # is applied, and `runserver` applies it a second time after perftoolkit's logger exists:
        # MODE "log" would then print nothing. Silencing is done with a level or a handler.
        logger.disabled = False
        if self.async_mode:
            # Mark the instance async, but switch inside __call__ (no dunder swapping).
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self.__acall__(request)
        mode, capture = _begin(request)
        if capture is None:
            response: HttpResponseBase = self.get_response(request)
            return response
        start = perf_counter_ns()
        try:
            # _guard's work, written out: this runs around every request.
            if capture.error is None and not _set_up(capture):  # activation failed: hook nothing
                try:
                    capture.install()
                except Exception:
                    failed("install", (capture,))
            response = self.get_response(request)
        finally:
            token = capture._token  # deactivate(), written out
            if token is not None:
                try:
                    _active.reset(token)
                except Exception:
                    failed("deactivate", (capture,))
                capture._token = None
        return self._finish(request, response, capture, mode, start)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        mode, capture = _begin(request)
        if capture is None:
            response: HttpResponseBase = await self.get_response(request)
            return response
        start = perf_counter_ns()
        try:
            # Connections are thread-local: hook them in the thread that runs this request's ORM.
            await sync_to_async(_guard, thread_sensitive=True)(capture, "install", capture.install)
            response = await self.get_response(request)
        finally:
            _guard(capture, "deactivate", capture.deactivate)
        return self._finish(request, response, capture, mode, start)

    def _finish(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        capture: QueryCapture,
        mode: str,
        start: int,
    ) -> HttpResponseBase:
        end = perf_counter_ns()
        try:
            conf = get_settings()
            record_dir = conf.record_dir
            # _done, written out: this runs after every request.
            if (
                not record_dir
                and capture.error is None
                and mode != "raise"
                and (
                    mode == "header"  # headers are all it does without recording
                    or (
                        type(capture) is QueryCapture  # not a TimingCapture
                        and conf.detectors == DEFAULT_DETECTORS
                        and (not capture.queries or _nothing_to_find(capture.queries))
                    )
                )
            ):
                if mode == "header":
                    _set_headers(response, capture)
                return response
            # RECORD_BUFFER as it applies to this request (`PerfToolkitSettings.record_buffer`)
            hold = conf.held_bytes_asgi if isinstance(request, ASGIRequest) else conf.held_bytes
            if (
                hold
                and record_dir
                and mode != "raise"
                and capture.error is None
                and type(capture) is QueryCapture  # TimingCapture: kept only when slow
                and len(capture.queries) <= _HELD_QUERIES_MAX
                and (mode != "log" or not _may_find(capture, conf))
            ):
                # Nothing to diagnose: the recorder holds what the request's line is made of and
                # builds the line with the other held ones, when they are written. No work is
                # left for after the response.
                attributes = request.__dict__
                match = attributes.get("resolver_match")
                endpoint = _endpoints.get((match.route, match.func)) if match is not None else None
                held: _Held | _Taken | _Request
                if endpoint is not None and not endpoint[3]:
                    # Its endpoint known (and not one a route keyer renames): the request's own
                    # values are read now, not the request kept. A request held whole keeps a
                    # dozen objects alive until its line is built; enough of them make the
                    # garbage collector run, and move them to its older generations, whose
                    # collections traverse the whole process (`benchmarks/README.md`).
                    held = (
                        request.method or "GET",
                        endpoint,
                        response.status_code,
                        start,
                        end,
                        request.path_info,
                        request.META.get("QUERY_STRING", ""),
                        _user_id(request),
                    )
                    build = _TAKEN
                elif "_body" in attributes or "_post" in attributes:
                    # Described now: its body is not kept in memory until its line is built.
                    held = _describe_request(
                        request, response.status_code, start, end, time_ns() - end
                    )
                    build = _DESCRIBED
                else:  # described as its line is built (the first request of its endpoint…)
                    held = (request, response.status_code, start, end)
                    build = _HELD
                if mode == "header":
                    _set_headers(response, capture)
                try:
                    recorder = recorder_for(record_dir)
                    if capture.queries or capture._cache is not None or capture._access is not None:
                        recorder.defer(build[0], capture, held, hold)
                    else:  # saw nothing: its line is its endpoint's but for the request's numbers
                        recorder.defer(build[1], None, held, hold)
                except Exception:
                    failed("record")
                return response
            info = _describe_request(request, response.status_code, start, end, time_ns() - end)
            if mode == "header" and capture.error is None:
                _set_headers(response, capture)
        except Exception:
            # Headers are set last, all at once: the response is still the application's own.
            failed("describe", (capture,))
            return response
        if mode == "raise":
            _after_response(capture, info, mode, hold)
            return response
        closers = getattr(response, "_resource_closers", None)
        job = partial(_after_response, capture, info, mode, hold)
        if isinstance(closers, list):
            closers.append(job)  # runs once the server has sent the response
        else:
            job()
        return response


def _begin(request: HttpRequest) -> tuple[str, QueryCapture | None]:
    """The mode and the activated capture for this request; no capture when perftoolkit should
    not look at it, or when starting one failed (logged; the request goes on unmeasured)."""
    try:
        conf = get_settings()
        mode = mode_override.get() or conf.mode  # current_mode(), without reading them twice
        if mode == "off" and not conf.record_dir:
            return "off", None
        pattern = conf.ignore_pattern  # compiled when the settings load, invalid ones left out
        if pattern is not None and pattern.search(request.path_info) is not None:
            return "off", None
        capture: QueryCapture | None
        if conf.sample_rate >= 1.0:  # _new_capture's common case, written out
            capture = QueryCapture(conf.cache)  # track_cache, by position
        else:
            capture = _new_capture(mode, conf)
            if capture is None:
                return mode, None  # not sampled
    except Exception:
        failed("activate")
        return "off", None
    try:
        capture.activate()
    except Exception:
        failed("activate", (capture,))  # recorded, with `capture_error`, and nothing hooked
    return mode, capture


def _set_up(capture: QueryCapture) -> bool:
    """Whether the calling thread has every hook `capture.install()` would set (its common case,
    read without the call)."""
    if not (capture._track_cache and capture._track_access):
        return False
    done = capture_module.threads_set_up
    return getattr(done._local, "generation", -1) == done.generation


def _new_capture(mode: str, conf: PerfToolkitSettings) -> QueryCapture | None:
    """The capture for this request, or None when it is not measured at all. SAMPLE_RATE is
    decided here, once, before any capture work: a request that is not sampled gets no capture
    (or, with SLOW_REQUEST_MS set, a timing-only one, kept if the request turns out slow)."""
    rate = conf.sample_rate
    if rate >= 1.0 or mode == "raise" or random() < rate:
        return QueryCapture(track_cache=conf.cache)
    if conf.slow_request_ms is None:
        return None
    return TimingCapture()


def _may_find(capture: QueryCapture, conf: PerfToolkitSettings) -> bool:
    """Whether a detector may find something in this capture (always, for detectors of the
    project's own: they may read anything)."""
    return conf.detectors != DEFAULT_DETECTORS or not _nothing_to_find(capture.queries)


def _guard(capture: QueryCapture, place: str, action: Callable[[], None]) -> None:
    """Run instrumentation; a failure abandons the capture, is logged once per place, and the
    request goes on (in every mode: `raise` raises what the detectors find, never our bugs)."""
    if capture.error is not None and place == "install":
        return  # activation failed: hook nothing
    try:
        action()
    except Exception:
        failed(place, (capture,))


def _describe_request(
    request: HttpRequest, status: int, start: int, end: int, offset: int
) -> _Request:
    """The request as recorded: its endpoint, status, times and target. `start` and `end` are
    `perf_counter_ns()` readings around it, `offset` what to add to one to make it `time_ns()`."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        known = _endpoints.get((match.route, match.func))  # _endpoint's lookup, without the call
        if known is None:
            known = _endpoint(match.route, match.func, match._func_path)
        route, view, view_class, keyed = known
        if keyed:
            # A route keyer (Wagtail's page class…) names catch-all routes; None when none applies.
            route = keyed_route(request, match) or route
    else:
        route, view, view_class = UNMATCHED_ROUTE, "", None
    # tuple.__new__ directly: a named tuple's own __new__ is a Python call of its own.
    return _new_request(
        _Request,
        (
            request.method or "GET",
            route,
            view,
            status,
            *_times(start, end, offset),
            view_class,
            request.path_info,
            request.META.get("QUERY_STRING", ""),
            _user_id(request),
        ),
    )


def _times(start: int, end: int, offset: int) -> tuple[float, float]:
    """A request's times to the microsecond, as recorded (no rounding left to do): the UNIX time
    in seconds when it began, its duration in milliseconds (`_describe_request`'s arguments)."""
    return (start + offset) // 1000 / 1e6, (end - start + 500) // 1000 / 1000.0


# What the recorder holds of a request it describes later (`defer`): the request, its status
# and the `perf_counter_ns()` readings around it.
_Held = tuple[HttpRequest, int, int, int]


def _described(held: _Held) -> _Request:
    """A held request's description, made when its line is built (the request is done with)."""
    request, status, start, end = held
    return _describe_request(request, status, start, end, _wall_offset(end))


def _wall_offset(end: int) -> int:
    """What to add to a held request's `perf_counter_ns()` readings (`end`, its last) to make them
    `time_ns()`: read again only when `end` is a second or more away from the last read."""
    global _wall
    offset, taken = _wall
    if not -1_000_000_000 < end - taken < 1_000_000_000:
        taken = perf_counter_ns()
        _wall = offset, taken = time_ns() - taken, taken
    return offset


# What to add to a `perf_counter_ns()` reading to make it `time_ns()`, and the reading it was
# taken at: the held requests within a second of it take it, not two clock readings each (the
# clocks move apart only when the wall clock is set).
_wall = (0, -(1 << 62))


_new_request = tuple.__new__


_endpoints: dict[tuple[str, Any], tuple[str, str, Any, bool]] = {}
on_settings_reset(_endpoints.clear)  # ROUTE_KEYERS


def _endpoint(pattern: str, func: Any, func_path: str) -> tuple[str, str, Any, bool]:
    """(route key, view path, view class, whether a route keyer may rename it), once per route."""
    key = (pattern, func)  # the view's path is the function's
    known = _endpoints.get(key)
    if known is None:
        view_class = getattr(func, "cls", None) or getattr(func, "view_class", None)
        if view_class is None:
            # A ModelAdmin's views (Django sets `model_admin` on each): its get_queryset builds
            # the rows they list and the object they change.
            admin = getattr(func, "model_admin", None)
            view_class = type(admin) if admin is not None else None
        keyed = keys_view(func_path)
        if len(_endpoints) >= 4096:  # routes are few; a project generating them is not bounded
            _endpoints.clear()
        route = route_key(without_language(pattern))
        known = _endpoints[key] = (route, str(func_path), view_class, keyed)
    return known


def _user_id(request: HttpRequest) -> Any:
    """The authenticated user's pk, read only if the request already loaded the user (Django's
    cached lazy user, or the user DRF's authentication set): never a query of our own."""
    attributes = request.__dict__
    user = attributes.get("_cached_user")
    if user is None:
        user = attributes.get("user")
        if user is None:  # the common case: no user set on the request
            return None
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


def _after_response(capture: QueryCapture, info: _Request, mode: str, hold: int) -> None:
    try:
        _analyse_and_record(capture, info, mode, hold)
    except NPlusOneDetected:
        raise
    except Exception:
        if mode == "raise":
            raise
        failed("record")


def _analyse_and_record(capture: QueryCapture, info: _Request, mode: str, hold: int) -> None:
    """Diagnose and record a finished request; `hold` is RECORD_BUFFER as it applies to it."""
    conf = get_settings()
    record_dir = conf.record_dir
    if capture.error is not None:
        # Abandoned: the request is counted, its partial capture is neither recorded nor analysed.
        if record_dir:
            recorder_for(record_dir).record(_abandoned_line(capture, info), [], hold)
        return
    if isinstance(capture, TimingCapture):
        # Not sampled: recorded only when slow, with its statements and times but no callsites.
        slow = conf.slow_request_ms
        if slow is not None and info.duration_ms > slow and record_dir:
            try:
                slow_line = profile_line(capture, *info)
            except Exception:
                failed("profile", (capture,))
                slow_line = _abandoned_line(capture, info)
            raw = capture.queries if "capture_error" not in slow_line else []
            recorder_for(record_dir).record(slow_line, raw, hold)
        return
    # In MODE "log" with the default detectors (which read only a request's shape), requests of
    # one shape are analysed once: looked up by the shape's key (or by the line, when one is
    # written).
    by_shape = False
    key = None
    try:
        detect = mode in ("log", "raise") and _may_find(capture, conf)
        by_shape = detect and mode == "log" and conf.detectors == DEFAULT_DETECTORS
        profile = build_profile(capture, **info._asdict()) if detect and not by_shape else None
        line = None
        if record_dir:
            if profile is not None:
                line = profile.to_dict()
            elif not by_shape and len(capture.queries) <= _HELD_QUERIES_MAX:
                line = known_line(capture, *info)  # only written (`_shapes` changes the lines)
            else:
                line = profile_line(capture, *info)
        elif by_shape:  # no line to write: the shape's key, built without it
            key = shape_key(capture, info.method, info.route, info.view, info.view_class)
    except Exception:
        if mode == "raise":
            raise
        failed("profile", (capture,))
        profile, line, by_shape = None, _abandoned_line(capture, info), False
    if record_dir and line is not None:
        raw = capture.queries if "capture_error" not in line else []
        recorder_for(record_dir).record(line, raw, hold)
    diagnosis = _diagnosis(capture, info, profile, line if by_shape else None, key)
    if diagnosis is None:
        return
    findings, ignored = diagnosis
    if ignored and mode == "log":
        rules = sorted({i.rule for i in ignored})
        logger.info(
            "perftoolkit: %s %s: %d finding(s) ignored (%s)",
            info.method,
            info.route,
            len(ignored),
            ", ".join(rules),
        )
    if not findings:
        return
    if findings_detected.has_listeners(QueryBudgetMiddleware):
        if profile is None:
            profile = build_profile(capture, **info._asdict())
        findings_detected.send(sender=QueryBudgetMiddleware, profile=profile, findings=findings)
    if mode == "log":
        if logger.isEnabledFor(logging.WARNING):  # each message is built only to be shown
            for finding in findings:
                logger.warning("perftoolkit: %s", describe(finding))
        return
    failing = [f for f in findings if f.kind in conf.raise_on]
    if failing and profile is not None:  # MODE "raise" always has the profile
        raise NPlusOneDetected(_raise_message(profile, failing))


_shapes = ShapeDiagnoses()


def _diagnosis(
    capture: QueryCapture,
    info: _Request,
    profile: RequestProfile | None,
    line: dict[str, Any] | None,
    key: tuple[Any, ...] | None,
) -> Diagnosis | None:
    """The request's findings: its shape's, looked up by `key` or by `line` (which this leaves as
    its shape), or its profile's; None when it has neither."""
    if key is None and line is None:
        return diagnose(profile) if profile is not None else None
    build = partial(build_profile, capture, **info._asdict())
    if key is not None:
        known = _shapes.diagnose_key(key, build)
        if known is not None:
            return known
        line = profile_line(capture, *info)  # a value in the key cannot be hashed
    if line is not None:
        return _shapes.diagnose(line, build)
    return diagnose(profile) if profile is not None else None


def _recorded_line(capture: QueryCapture, info: _Request) -> tuple[dict[str, Any], list[RawQuery]]:
    """The line of a described request and its queries to sample; when building it fails, the
    line of an abandoned capture."""
    try:
        return known_line(capture, *info), capture.queries
    except Exception:
        failed("profile", (capture,))
        return _abandoned_line(capture, info), []


def _held_line(capture: QueryCapture, held: _Held) -> tuple[dict[str, Any] | bytes, list[RawQuery]]:
    """The line of a request the recorder held (`Recorder.defer`) and its queries to sample."""
    return _line_of(_described, _recorded_line, capture, held)


_Line = tuple[dict[str, Any] | bytes, list[RawQuery]]


def _line_of(
    describe: Callable[[Any], _Request],
    build: Callable[[Any, _Request], _Line],
    capture: QueryCapture | None,
    held: Any,
) -> _Line:
    """`build(capture, description)` of a held request once `describe` made its description; when
    that fails, nothing (logged once, as when it fails in place)."""
    try:
        info = describe(held)
    except Exception:
        failed("describe", () if capture is None else (capture,))
        return b"", []
    return build(capture, info)


# A capture that saw nothing (no statement, cache read or relation read): what `_quiet_line`
# builds the fixed part of an endpoint's line from. Never activated.
_NOTHING_SEEN = QueryCapture(track_cache=False, track_access=False)
# The encoded fixed part of the line of a request that saw nothing, by its endpoint and status:
# `{"method":…,"relations":[],` (no closing brace), the numbers and target are added per request.
_quiet_heads: dict[tuple[Any, ...], bytes] = {}
on_settings_reset(_quiet_heads.clear)  # PROJECT_ROOT: the view's queryset site


def _quiet_line(capture: None, held: _Held) -> tuple[dict[str, Any] | bytes, list[RawQuery]]:
    """The line of a request held whole whose capture saw nothing (`_quiet_described`)."""
    return _line_of(_described, _quiet_described, None, held)


# What the recorder holds of a request whose endpoint was known as it ended: its method, its
# endpoint (`_endpoint`), status, `perf_counter_ns()` readings, path, query string and user.
_Taken = tuple[str, tuple[str, str, Any, bool], int, int, int, str, str, Any]


def _taken_request(held: _Taken) -> _Request:
    """The description of a request held as its values (`_Taken`), made as its line is built."""
    method, (route, view, view_class, _), status, start, end, path, query, user = held
    return _new_request(
        _Request,
        (
            method,
            route,
            view,
            status,
            *_times(start, end, _wall_offset(end)),
            view_class,
            path,
            query,
            user,
        ),
    )


def _taken_line(
    capture: QueryCapture, held: _Taken
) -> tuple[dict[str, Any] | bytes, list[RawQuery]]:
    """`_held_line` of a request held as its values."""
    return _line_of(_taken_request, _recorded_line, capture, held)


def _quiet_taken(capture: None, held: _Taken) -> tuple[dict[str, Any] | bytes, list[RawQuery]]:
    """`_quiet_line` of a request held as its values: once its endpoint's head is encoded, the
    head and the request's numbers and target, without a description made first."""
    method, (route, view, view_class, _), status, start, end, path, query, user = held
    try:
        head = _quiet_heads.get((method, route, view, status, view_class))
        if head is not None:
            return _quiet_encoded(
                head, *_times(start, end, _wall_offset(end)), path, query, user
            ), []
    except Exception:
        failed("profile")  # logged once; the request is described and its line made so instead
    return _line_of(_taken_request, _quiet_described, None, held)


def _quiet_described(
    capture: None, info: _Request
) -> tuple[dict[str, Any] | bytes, list[RawQuery]]:
    """`_quiet_line` of a described request."""
    method, route, view, status, started_at, duration_ms, view_class, path, query, user = info
    try:
        head = _quiet_heads.get((method, route, view, status, view_class))
        if head is None:
            head = _quiet_head((method, route, view, status, view_class))
        return _quiet_encoded(head, started_at, duration_ms, path, query, user), []
    except Exception:
        failed("profile")  # logged once; the line is built key by key instead
        return _recorded_line(_NOTHING_SEEN, info)


def _quiet_encoded(
    head: bytes, started_at: float, duration_ms: float, path: str, query: str, user: Any
) -> bytes:
    """A quiet line: its endpoint's encoded head, and the request's numbers and target."""
    numbers = {"started_at": started_at, "duration_ms": duration_ms}
    add_request_target(numbers, path, query, user)
    # `{"started_at":…}\n` without its brace closes the head's object.
    return head + encode_line(numbers)[1:]


# The recorder's line builders (`Recorder.defer`) of a request held whole, of one held as its
# values and of one described as it ended: for one that ran something, and for one that saw
# nothing.
_Builders = tuple[LineBuilder, LineBuilder]
_HELD: _Builders = (_held_line, _quiet_line)
_TAKEN: _Builders = (_taken_line, _quiet_taken)
_DESCRIBED: _Builders = (_recorded_line, _quiet_described)


def _quiet_head(key: tuple[Any, ...]) -> bytes:
    method, route, view, status, view_class = key
    line = profile_line(
        _NOTHING_SEEN, method, route, view, status, 0.0, 0.0, view_class, "", "", None
    )
    del line["started_at"], line["duration_ms"]
    head = encode_line(line)
    if not head.endswith(b"}\n"):  # never: encode_line ends every line so
        raise ValueError(head)
    if len(_quiet_heads) >= 4096:  # as `_endpoints`: routes are few
        _quiet_heads.clear()
    head = _quiet_heads[key] = head[:-2] + b","
    return head


def _abandoned_line(capture: QueryCapture, info: _Request) -> dict[str, Any]:
    """The line of a request whose capture was abandoned: counted, with nothing measured."""
    return {
        "method": info.method,
        "route": info.route,
        "view": info.view,
        "status": info.status,
        "started_at": round6(info.started_at),
        "duration_ms": round3(info.duration_ms),
        **request_target(info.path, info.query_string, info.user),
        "statements": {},
        "queries": [],
        "cache": {"gets": 0, "hits": 0},
        "sites": [],
        "relations": [],
        "capture_error": capture.error,
    }


def _nothing_to_find(queries: list[RawQuery]) -> bool:
    """Whether the built-in detectors cannot fire: each needs two statements (N+1, duplicates,
    at least 2 by the settings' rules), a write (write on read) or an eager load (unused eager
    loads). Then the profile is not built at all."""
    if not queries:
        return True
    if len(queries) > 1:
        return False
    query = queries[0]
    return not query.eager and _kind(query.sql) not in WRITE_KINDS


_kind = lru_cache(maxsize=4096)(statement_kind)  # once per statement text


def _raise_message(profile: RequestProfile, findings: list[Finding]) -> str:
    lines = [
        f"{profile.method} {profile.route} ran {len(profile.queries)} queries "
        f"and shows {len(findings)} problem{'s' if len(findings) != 1 else ''}:"
    ]
    lines.extend(f"  - {describe(f)}" for f in findings)
    return "\n".join(lines)

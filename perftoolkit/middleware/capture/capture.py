"""QueryCapture: every statement on every database alias, while a capture is active.

Django's documented hook, an entry in `connection.execute_wrappers`, is set once on each
connection object (connections are thread-local: on a thread's first capture, and on every
connection opened afterwards, through `connection_created`) and stays, like the cache counters:
outside a capture it costs one ContextVar read per statement. The active captures are found
through that ContextVar, so concurrent requests never see each other's queries, and a capture
records nothing once its scope has ended. Setting the hook per request cost more than the rest of
a query-free request's capture (`benchmarks/overhead.py`).

Per query the cost is a timer, a dict count and a frame walk to the first project frame; what the
ORM knows about the query (which relation fired it) is read only when the statement repeats.
"""

from __future__ import annotations

import logging
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import Token
from dataclasses import dataclass, replace
from functools import lru_cache
from time import perf_counter_ns
from types import FrameType
from typing import Any, NamedTuple

from django.db import connections
from django.db.backends.signals import connection_created

from perftoolkit.conf import on_settings_reset
from perftoolkit.core.events import CallSite, Choices, Relation
from perftoolkit.core.fingerprint import is_write
from perftoolkit.middleware.capture import attribution, context, lookups, sites
from perftoolkit.middleware.capture.accesses import AccessTracker, install_access_tracking
from perftoolkit.middleware.capture.cachestats import CacheCounter, install_cache_counting
from perftoolkit.middleware.capture.eager_sites import eager_site, install_eager_sites
from perftoolkit.middleware.capture.failures import failed
from perftoolkit.middleware.capture.frames import Walk, callsite_of, peek_for_template, walk
from perftoolkit.middleware.capture.sessions import install_session_tracking, saves_session

logger = logging.getLogger("perftoolkit")
_active = context.current
# What Django's MySQL backend runs on a connection it opens (the server's variables once per
# connection object, the isolation level on every connect): with CONN_MAX_AGE=0 or under ASGI that
# is inside requests, which would count statements the application never ran.
_CONNECTION_SETUP = (
    "SET SESSION TRANSACTION ISOLATION LEVEL ",
    "SET SQL_AUTO_IS_NULL",
    "SELECT VERSION(),",
)
_CALLER = 2  # frames out from _record: _Dispatch.__call__, then Django's executor (walks start)


_writes = lru_cache(maxsize=4096)(is_write)  # once per statement text


def active_captures() -> tuple[QueryCapture, ...]:
    captures: tuple[QueryCapture, ...] = _active.get()
    return captures


class _Dispatch:
    """The execute wrapper set on each connection: times the statement and hands it to every
    capture active in the calling context; outside any, it only calls through."""

    __slots__ = ()

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        captures = _active.get()
        if not captures:
            return execute(sql, params, many, context)
        start = perf_counter_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            # Milliseconds to the microsecond, as recorded (no rounding left to do).
            elapsed = (perf_counter_ns() - start + 500) // 1000 / 1000.0
            alias = context["connection"].alias
            for capture in captures:
                if capture.error is None:
                    try:
                        capture._record(sql, params, many, alias, elapsed)
                    except Exception:
                        failed("query", (capture,))

    def __repr__(self) -> str:
        return "<perftoolkit query capture>"


DISPATCH = _Dispatch()
# Which threads have every connection hooked, for which configuration of DATABASES.
_hooked = context.PerThread("DATABASES")
# Which threads have every hook of a full capture set (connections, caches, relation reads).
threads_set_up = context.PerThread("DATABASES", "CACHES")


def _hook(connection: Any) -> None:
    wrappers = connection.execute_wrappers
    if not any(w is DISPATCH for w in wrappers):
        wrappers.append(DISPATCH)


def _connection_opened(*, connection: Any, **kwargs: object) -> None:
    # A connection object first used after its thread's connections were hooked (a new thread
    # in an ASGI executor, an alias added by a test): hooked before its first statement. Until
    # a capture has run in this process, nothing is hooked (MODE "off" without recording).
    if not _hooked.ever:
        return
    try:
        _hook(connection)
    except Exception:
        failed("install", _active.get())


connection_created.connect(_connection_opened)


def hook_connections() -> None:
    """Set the capture's wrapper on every connection of the calling thread (once per thread)."""
    if _hooked.done():
        return
    generation = _hooked.generation
    for connection in connections.all():
        _hook(connection)
    _hooked.mark(generation)


@dataclass(slots=True)
class RawQuery:
    """One statement as captured; live only until the profile is built after the response."""

    sql: str
    params: Any
    many: bool
    alias: str
    ms: float
    callsite: CallSite | None
    filename: str | None  # absolute file of `callsite`, to read the source line later
    render_site: CallSite | None = None
    relation: Relation | None = None
    model: str | None = None
    eager: tuple[tuple[str, str], ...] = ()
    eager_hops: tuple[tuple[tuple[str, str], ...], ...] = ()
    eager_targets: tuple[str, ...] = ()
    eager_site: CallSite | None = None  # the line that asks for the eager loads
    lookups: tuple[Relation, ...] = ()
    prefetch: bool = False
    handed_off: bool = False
    default_ordering: tuple[str, ...] = ()
    # The query whose rows built the object this statement read a relation of (its index in the
    # capture; -1: no watched query built it; None: no such object, or reads are not tracked).
    rows_from: int | None = None
    # The analysed run this one repeats (its attribution, shared): the recorder encodes it once.
    template: RawQuery | None = None
    # The project line whose statement a fix quotes when it is not `callsite`: the method a
    # template called (`{{ item.open_tickets }}` runs `Ticket.objects.filter(…).count()`).
    quoted_site: CallSite | None = None
    # The statement saved the request's session: `callsite` is the line that modified it.
    session: bool = False
    # Its rows were listed as a field's choices (a form's select, a model field's get_choices).
    choices: Choices | None = None
    # A write from a model's own method (its save(), a property that saves): the project line
    # out from it that called that method.
    caller: CallSite | None = None
    # Where each of `eager` was asked for, when a capture saw the queryset's eager loads asked
    # (None: that one was asked outside it, at import time in a class attribute); () otherwise.
    eager_sites: tuple[CallSite | None, ...] = ()

    def reused(self, params: Any, many: bool, alias: str, ms: float) -> RawQuery:
        """This first run's attribution for the first run of the same statement from the same line
        in a later capture (see `_remember_first_run`: nothing in it is per request)."""
        # again(), but not a repeat of this run (`template`: the later capture's own first run,
        # encoded on its own) and with its default ordering.
        return RawQuery(
            self.sql, params, many, alias, ms, self.callsite, self.filename, self.render_site,
            self.relation, self.model, (), (), (), None, self.lookups, self.prefetch,
            self.handed_off, self.default_ordering, self.rows_from, None, self.quoted_site,
            False, self.choices, self.caller,
        )  # fmt: skip

    def again(self, params: Any, many: bool, alias: str, ms: float) -> RawQuery:
        """Another run of the same statement from the same line: same attribution, new values.
        (Every field given by position: keywords and defaults cost the dataclass's __init__ more
        than its work, and this runs once per repeated query.)"""
        return RawQuery(
            self.sql, params, many, alias, ms, self.callsite, self.filename, self.render_site,
            self.relation, self.model, (), (), (), None, self.lookups, self.prefetch,
            self.handed_off, (), self.rows_from, self, self.quoted_site, False, self.choices,
            self.caller,
        )  # fmt: skip


# Where a statement ran from: the depth of the project frame out from the hook, its file, its
# line and its instruction (`topic.category.parent` reads two relations whose statements can be
# the same text, on one line), the code and instruction of the frame that called it (a model
# method's line is the same whether a view or a template called it: the run analysed for one is
# not the other's), and the run analysed there.
_Place = tuple[int, str, int, int, Any, int, RawQuery]
# First runs whose walk and attribution hold nothing of their request, by statement. Kept per
# process, across captures.
_first_runs: dict[str, _Place] = {}
on_settings_reset(_first_runs.clear)  # the project root, IGNORE_MODULES: callsites change
_FIRST_RUNS_MAX = 4096


def _remember_first_run(sql: str, found: Walk, query: RawQuery) -> None:
    """Keep a first run for later captures when what it knows depends only on the statement and
    the project line it came from: not a related set's rows (whose owner is per request), not a
    prefetch, a template's or a serializer field's read, nor an eager load (which watches rows).
    A run with no project line at all (a session or user loaded by middleware, DRF's
    authentication) is kept by the library line that ran it (`_remember_library_run`)."""
    project = found.project
    if (
        found.template is not None
        or found.serializer is not None
        or found.prefetch is not None
        or query.relation is not None
        or query.rows_from is not None
        or query.caller is not None  # whose call it was is the request's
    ):
        return
    if project is None:
        _remember_library_run(sql, found, query)
        return
    if len(_first_runs) >= _FIRST_RUNS_MAX:  # statements with inlined values: not bounded
        _first_runs.clear()
    # A copy: the capture's own run may still learn its relation if the statement repeats.
    kept = query.reused(None, False, "", 0.0)
    _first_runs[sql] = _place(found.depth, project, kept)


# First runs with no project line, by statement: the place of the first library frame out from
# the hook and the place of the handler frame the walk stopped at. Both must be where they were
# for the run to be reused: the library line that ran the statement, reached by a path of the
# same length from the same place in the request's handling.
_library_runs: dict[str, tuple[_Place, _Place]] = {}
on_settings_reset(_library_runs.clear)  # IGNORE_MODULES: what is library code changes


def _remember_library_run(sql: str, found: Walk, query: RawQuery) -> None:
    library, stop = found.library, found.stop
    if library is None or stop is None or query.callsite is not None or query.eager:
        return
    if len(_library_runs) >= _FIRST_RUNS_MAX:
        _library_runs.clear()
    kept = query.reused(None, False, "", 0.0)
    _library_runs[sql] = (
        _place(found.library_depth, library, kept),
        _place(found.stop_depth, stop, kept),
    )


# First runs of a relation read through a row's descriptor (`book.author`, `user.profile`), by
# statement: the place, the depth and code of the queryset frame that ran it, the class of the
# row read, and the run. What the analysis finds is the statement's and the line's but for the
# row (`rows_from`: which query built it), found again from the queryset at that depth.
class _RelationRun(NamedTuple):
    place: _Place  # of the project line, as `_first_runs` keep it
    queryset_depth: int
    queryset_code: Any
    row_class: type
    run: RawQuery


_relation_runs: dict[str, _RelationRun] = {}
on_settings_reset(_relation_runs.clear)  # as _first_runs


def _remember_relation_run(
    sql: str,
    found: Walk,
    query: RawQuery,
    owner: Any,
    start: FrameType | None,
    kept_in: dict[str, _RelationRun] | None = None,
) -> None:
    """Keep the first run of a row's single-valued relation read for later captures, when
    nothing else of it is the request's (as `_remember_first_run`): read through the descriptor
    (`get`), not prefetched, from a project line that is no template's or serializer field's,
    loading no eager paths."""
    relation, project, queryset = query.relation, found.project, found.queryset
    if (
        relation is None
        or relation.kind not in ("forward", "reverse_one")
        or relation.via != "get"
        or relation.prefetched
        or relation.constant
        or relation.same_object
        or project is None
        or queryset is None
        or found.template is not None
        or found.serializer is not None
        or found.prefetch is not None
        or query.eager
        or query.session
        or query.caller is not None
        or query.choices is not None
    ):
        return
    depth, frame = 0, start
    while frame is not queryset:
        if frame is None:
            return
        frame, depth = frame.f_back, depth + 1
    if kept_in is None:
        kept_in = _relation_runs
    if len(kept_in) >= _FIRST_RUNS_MAX:
        kept_in.clear()
    kept = query.reused(None, False, "", 0.0)
    kept.rows_from = None  # the request's own, found again
    kept_in[sql] = _RelationRun(
        _place(found.depth, project, kept), depth, frame.f_code, type(owner), kept
    )


def _row_read(entry: _RelationRun, queryset_frame: FrameType | None) -> tuple[Any, Any] | None:
    """The queryset a remembered relation read runs now and the row whose relation it reads,
    when the queryset frame at its depth and the row's class are as they were; else None."""
    if queryset_frame is None or queryset_frame.f_code is not entry.queryset_code:
        return None
    queryset = attribution.queryset_in(queryset_frame)
    owner = attribution.owner_of(queryset) if queryset is not None else None
    if owner is None or type(owner) is not entry.row_class:
        return None
    return queryset, owner


# First repeats of such a relation read (the analysis `_analyse_repeat` makes), by statement, kept
# as the first runs are: a later capture's first repeat from the same place reuses it.
_relation_repeats: dict[str, _RelationRun] = {}
on_settings_reset(_relation_repeats.clear)


def _remember_relation_repeat(
    sql: str, found: Walk, analysed: RawQuery, owner: Any, start: FrameType | None
) -> None:
    """Keep a first repeat's analysis (`_analyse_repeat`, walked deep: no template above the
    project line either) when it is a row's single-valued relation read as
    `_remember_relation_run` keeps a first run, read on another row than the first run's (the
    same row again is a duplicate read, told by comparing parameters: the request's)."""
    if (
        analysed.lookups
        or analysed.render_site is not None
        or analysed.quoted_site is not None
        or analysed.rows_from is None
    ):
        return
    _remember_relation_run(sql, found, analysed, owner, start, _relation_repeats)


def _place(depth: int, project: FrameType, run: RawQuery) -> _Place:
    caller = project.f_back
    return (
        depth, project.f_code.co_filename, project.f_lineno, project.f_lasti,
        caller.f_code if caller is not None else None,
        caller.f_lasti if caller is not None else -1,
        run,
    )  # fmt: skip


def _frame_at(depth: int) -> FrameType | None:
    """The frame `depth` out from the function that calls this one (None past the outermost)."""
    try:
        return sys._getframe(depth + 1)
    except ValueError:
        return None


def _caller(frame: FrameType) -> tuple[Any, int]:
    """The code and instruction of the frame that called `frame` (its place in its caller)."""
    caller = frame.f_back
    return (caller.f_code, caller.f_lasti) if caller is not None else (None, -1)


def _on_its_line(entry: _Place | None) -> RawQuery | None:
    """The run of `entry` when the frame at its depth out from `QueryCapture._record` is at its
    line and instruction again (sys._getframe jumps without building the frames in between);
    else None."""
    if entry is None:
        return None
    depth, filename, line, instruction, caller_code, caller_at, run = entry
    try:
        target = sys._getframe(_CALLER + 1 + depth)  # one frame more: this function's caller's
    except ValueError:
        return None
    if (
        target.f_lasti == instruction
        and target.f_lineno == line
        and target.f_code.co_filename == filename
        and _caller(target) == (caller_code, caller_at)
    ):
        return run
    return None


def _serializer_key(found: Walk) -> int | None:
    """What tells a DRF serializer's reads apart: the field being rendered."""
    if found.serializer is None:
        return None
    return id(attribution.frame_local(found.serializer, "field"))


def _template_key(found: Walk) -> tuple[int, int, int] | None:
    """What tells a template's reads apart, the project line being the view's render call: the
    node rendered, the relation descriptor read (`{{ topic.category.parent }}` is one node
    reading two foreign keys to the same table, with the same statement), and the model of the
    row a library relation's set belongs to (django-taggit runs one statement for the tags of
    every model: a timeline's notes and feedings are two relations)."""
    if found.template is None:
        return None
    node = attribution.frame_local(found.template, "self")
    descriptor = attribution.frame_local(found.descriptor, "self")
    owner = attribution.owner_of(attribution.queryset_of(found))
    return (id(node), id(descriptor), id(type(owner)) if owner is not None else 0)


class QueryCapture:
    """Records the queries (and cache reads, and relation reads) of one unit of work."""

    __slots__ = (
        "queries", "_first", "_repeats", "_hints", "_owners", "_token", "_cache", "_access",
        "_track_cache", "_track_access", "error", "session_site", "_fields", "_callers",
    )  # fmt: skip

    def __init__(self, track_cache: bool = True, track_access: bool = True) -> None:
        # Not keyword-only: the middleware passes track_cache by position (a keyword made the
        # call some 40 % slower).
        self.queries: list[RawQuery] = []
        self._first: dict[str, int] = {}
        # Made when a statement first repeats (most requests repeat none): the attribution of a
        # repeat by (statement, project file, line, from a template), the last line each
        # statement repeated from, and the object whose related set ran a statement the first
        # time (weakly: the same object again on a repeat means the rows vary, not the set).
        self._repeats: (
            dict[tuple[str, str, int, int, tuple[int, int, int] | int | None], RawQuery] | None
        ) = None
        self._hints: dict[str, _Place] | None = None
        self._owners: dict[str, weakref.ref[Any]] | None = None
        self._token: Token[Any] | None = None
        # The counters are made when first needed: most requests read no relation, many no cache.
        # Relation reads are noted once a query asked for an eager load (what they are read for).
        self._cache: CacheCounter | None = None
        self._access: AccessTracker | None = None
        self._track_cache = track_cache
        self._track_access = track_access
        # Where an internal failure abandoned this capture (None: it is whole).
        self.error: str | None = None
        # The line that first modified a session in this capture, and its file (`sessions.py`).
        self.session_site: tuple[CallSite, str] | None = None
        # The serializer field a statement's first run read through (made when one does).
        self._fields: dict[str, int | None] | None = None
        # Where each statement's first run was called from (`_caller` of its project frame).
        self._callers: dict[str, tuple[Any, int]] | None = None

    @property
    def cache(self) -> CacheCounter | None:
        """The cache reads counted (None when cache reads are not tracked)."""
        cache = self._cache
        if cache is None and self._track_cache:
            cache = self._cache = CacheCounter()
        return cache

    @property
    def access(self) -> AccessTracker | None:
        """The relations read and rows built (None when they are not tracked)."""
        access = self._access
        if access is None and self._track_access:
            access = self._access = AccessTracker()
        return access

    def counted(self) -> tuple[CacheCounter | None, AccessTracker | None]:
        """The counters as they are, without making one: None where nothing was counted."""
        return self._cache, self._access

    # -- scope ---------------------------------------------------------------------------------

    def activate(self) -> None:
        """Make this the current context's capture (call where the request's context lives)."""
        outer = _active.get()
        self._token = _active.set((*outer, self) if outer else (self,))

    def deactivate(self) -> None:
        if self._token is not None:
            _active.reset(self._token)
            self._token = None

    def install(self) -> None:
        """Make sure the calling thread's connections (and caches, and relation descriptors) carry
        the hooks; they stay, and record only for active captures."""
        every = self._track_cache and self._track_access
        if every and threads_set_up.done():
            return  # one check per request for the three below
        generation = threads_set_up.generation
        hook_connections()
        if self._track_cache:
            install_cache_counting()
        if self._track_access:
            install_access_tracking()
            install_session_tracking()
            install_eager_sites()
        if every:
            threads_set_up.mark(generation)

    def __enter__(self) -> QueryCapture:
        self.activate()
        try:
            self.install()
        except BaseException:
            self.deactivate()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.deactivate()

    # -- what the hook hands over --------------------------------------------------------------

    def _record(self, sql: str, params: Any, many: bool, alias: str, ms: float) -> None:
        first = self._first.get(sql)
        if first is None:
            if sql.lstrip().startswith(_CONNECTION_SETUP):
                return  # not the request's: Django setting up a new MySQL connection
            self._first[sql] = len(self.queries)
            # An earlier request ran this statement from the same project line: its walk and
            # attribution hold nothing of that request (`_remember_first_run`).
            entry = _first_runs.get(sql)
            seen = _on_its_line(entry)
            if seen is not None:  # called from where that run was (`_called_alike`)
                callers = self._callers
                if callers is None:
                    callers = self._callers = {}
                callers[sql] = entry[4:6]  # type: ignore[index]
            # (Not once a session was modified: its save is named after the line that did it.)
            if seen is None and sql in _library_runs and self.session_site is None:
                library, stop = _library_runs[sql]
                if _on_its_line(stop) is not None:  # both checked from here: same depths
                    seen = _on_its_line(library)
            if seen is not None:
                self.queries.append(seen.reused(params, many, alias, ms))
                return
            relation_run = _relation_runs.get(sql)
            if relation_run is not None and _on_its_line(relation_run.place) is not None:
                # (the queryset's frame, asked from here: depths count from this frame's caller)
                queryset_frame = _frame_at(_CALLER + relation_run.queryset_depth)
                reused = self._reused_relation_run(
                    sql, relation_run, queryset_frame, params, many, alias, ms
                )
                if reused is not None:
                    self.queries.append(reused)
                    return
            frame = sys._getframe(_CALLER)  # only now: a frame object is made for it
            self.queries.append(self._first_run(sql, params, many, alias, ms, frame))
            return
        # A repeat. The last run of this statement came from a known line: if the frame at the
        # same depth is that line again, the walk is skipped (and no frame object is asked for
        # but that one).
        hints = self._hints
        if hints is None:
            hints = self._hints = {}
        known = _on_its_line(hints.get(sql))
        if known is not None:
            self.queries.append(known.again(params, many, alias, ms))
            return
        relation_repeat = _relation_repeats.get(sql)
        if relation_repeat is not None and _on_its_line(relation_repeat.place) is not None:
            # (the frames, asked from here: depths count from this frame's caller)
            project = _frame_at(_CALLER + relation_repeat.place[0])
            queryset_frame = _frame_at(_CALLER + relation_repeat.queryset_depth)
            if project is not None and self._reuse_relation_repeat(
                sql, first, relation_repeat, project, queryset_frame, params, many, alias, ms
            ):
                return
        frame = sys._getframe(_CALLER)
        found = walk(frame)
        project = found.project
        if project is not None and found.template is None and found.serializer is None:
            # Project code a template called (`{{ urlpath.path }}` on several template lines):
            # the template line tells its runs apart, and no hint may stand for the others.
            peek_for_template(project.f_back, found)
        key = (
            sql,
            project.f_code.co_filename if project is not None else "",
            project.f_lineno if project is not None else 0,
            project.f_lasti if project is not None else 0,
            _template_key(found) or _serializer_key(found),
        )
        repeats = self._repeats
        if repeats is None:
            repeats = self._repeats = {}
        cached = repeats.get(key)
        if cached is None:
            cached = self._analyse_repeat(sql, frame, params, self.queries[first].params)
            repeats[key] = cached
            fields = self._fields
            if (
                found.serializer is None
                or (fields is not None and fields.get(sql) == _serializer_key(found))
            ) and self._called_alike(sql, project):
                # (another field's read of the same statement tells nothing of the first run, nor
                # a run of the same project line called from elsewhere: a view's, then a
                # template's)
                self._backfill(self.queries[first], cached, project)
        if project is not None and found.template is None and found.serializer is None:
            # The project line is the anchor. Not for a serializer field's read: one project line
            # (a list serializer's to_representation) renders several fields, which may run the
            # same statement through other relations (two nested users' `created_by`).
            hints[sql] = _place(found.depth, project, cached)
        self.queries.append(cached.again(params, many, alias, ms))

    def _note_caller(self, sql: str, caller: tuple[Any, int]) -> None:
        callers = self._callers
        if callers is None:
            callers = self._callers = {}
        callers[sql] = caller

    def _called_alike(self, sql: str, project: FrameType | None) -> bool:
        """Whether the first run of `sql` was called from where this run's project frame was (the
        same instruction of the same caller); unknown counts as alike."""
        callers = self._callers
        first = callers.get(sql) if callers is not None else None
        return first is None or project is None or first == _caller(project)

    def _first_run(
        self, sql: str, params: Any, many: bool, alias: str, ms: float, frame: Any
    ) -> RawQuery:
        found = walk(frame)
        if found.project is not None:
            self._note_caller(sql, _caller(found.project))
        if found.serializer is not None:
            if self._fields is None:
                self._fields = {}
            self._fields[sql] = _serializer_key(found)
        queryset = attribution.queryset_of(found)
        if not found.handed_off and attribution.evaluates_an_argument(found, queryset):
            found.handed_off = True
        query = self._located(sql, found, repeat=False)
        query.params, query.many, query.alias, query.ms = params, many, alias, ms
        query.prefetch = found.prefetch is not None
        changed = self.session_site
        if query.callsite is None and changed is not None and saves_session(frame):
            # Library code saving the session: its cause is the line that changed it. Not kept
            # for later captures: that line is this request's.
            query.callsite, query.filename = changed
            query.session = True
            if queryset is not None:
                query.model = attribution.label(queryset.model)
            return query
        if queryset is None:
            _remember_first_run(sql, found, query)
            return query
        model = queryset.model
        query.model = attribution.label(model)
        query.default_ordering = attribution.default_ordering(queryset)
        owner = attribution.owner_of(queryset)
        if owner is None:
            query.choices = sites.choices_of(frame, found)
        else:  # a related set's rows
            query.rows_from = self._built_by(owner)
            query.relation = attribution.with_manager_filters(
                attribution.relation_of(found, queryset), queryset
            )
            if query.relation is not None and self._loaded_before(query.model):
                # A relation back to rows the request already listed (a revision's article's
                # current revision, a comment's parent): which rows a later read is of is told
                # by which query built them, so the rows this relation loads are tracked.
                access = self.access
                if access is not None:
                    access.watch(model)
            ordering = attribution.explicit_ordering(queryset)
            if query.relation is not None and ordering:
                query.relation = replace(query.relation, ordering=ordering)
            with suppress(TypeError):  # an object without weak references: never compared
                if self._owners is None:
                    self._owners = {}
                self._owners[sql] = weakref.ref(owner)
        if found.prefetch is None:
            eager = attribution.eager_paths(queryset)
            # count(), exists() and aggregate() load no rows: their eager loads load nothing
            if eager and attribution.via_of(found) in ("count", "exists", "aggregate"):
                eager = ()
            if eager:
                access = self.access
                if access is not None:
                    access.watch(model)
                    for _, path in eager:  # the rows it brings in: whose they are is asked later
                        for related in lookups.path_models(model, path):
                            access.watch(related)
                query.eager = eager
                query.eager_hops = tuple(lookups.path_hops(model, p) for _, p in eager)
                query.eager_targets = tuple(lookups.path_target(model, p) for _, p in eager)
                query.eager_site = eager_site(queryset)
                if query.eager_site is not None:
                    query.eager_sites = tuple(eager_site(queryset, p) for _, p in eager)
                if (
                    query.eager_site is None
                    and found.project is not None
                    and found.template is None
                ):
                    query.eager_site = sites.definition_site(
                        found.project, ("select_related", "prefetch_related")
                    )
        if owner is None and not query.eager:
            _remember_first_run(sql, found, query)
        elif owner is not None:
            _remember_relation_run(sql, found, query, owner, frame)
        return query

    def _reused_relation_run(
        self,
        sql: str,
        entry: _RelationRun,
        queryset_frame: FrameType | None,
        params: Any,
        many: bool,
        alias: str,
        ms: float,
    ) -> RawQuery | None:
        """A remembered relation read's run for this capture (`_remember_relation_run`), with
        what `_first_run` finds of the request: which query built the row read, the rows that
        relation loads watched when the request listed that model already, the row kept to
        compare repeats with. None when the queryset frame or the row's class is not as it was."""
        read = _row_read(entry, queryset_frame)
        if read is None:
            return None
        queryset, owner = read
        query = entry.run.reused(params, many, alias, ms)
        query.rows_from = self._built_by(owner)
        if self._loaded_before(query.model):
            access = self.access
            if access is not None:
                access.watch(queryset.model)
        self._note_caller(sql, (entry.place[4], entry.place[5]))
        with suppress(TypeError):
            if self._owners is None:
                self._owners = {}
            self._owners[sql] = weakref.ref(owner)
        return query

    def _reuse_relation_repeat(
        self,
        sql: str,
        first: int,
        entry: _RelationRun,
        project: FrameType,
        queryset_frame: FrameType | None,
        params: Any,
        many: bool,
        alias: str,
        ms: float,
    ) -> bool:
        """Record a first repeat with a remembered analysis (`_remember_relation_repeat`), as
        `_record` records one it analyses: what a repeat finds of the request is the row read
        (which query built it), and whether it is the first run's row (then it is analysed: a
        duplicate read may be what it is). False, recording nothing, when the frames, the row or
        a template above the project line are not as they were."""
        read = _row_read(entry, queryset_frame)
        if read is None:
            return False
        owner = read[1]
        firsts = self._owners
        earlier = firsts.get(sql) if firsts is not None else None
        if earlier is not None and earlier() is owner:
            return False
        above = Walk()
        peek_for_template(project.f_back, above)  # as the walk of an analysed repeat does
        if above.template is not None:
            return False
        cached = entry.run.reused(None, False, "", 0.0)
        cached.rows_from = self._built_by(owner)
        repeats = self._repeats
        if repeats is None:
            repeats = self._repeats = {}
        depth, filename, line, instruction = entry.place[:4]
        repeats[(sql, filename, line, instruction, None)] = cached
        if self._called_alike(sql, project):
            self._backfill(self.queries[first], cached, project)
        hints = self._hints
        if hints is not None:
            hints[sql] = _place(depth, project, cached)
        self.queries.append(cached.again(params, many, alias, ms))
        return True

    def _loaded_before(self, model: str | None) -> bool:
        """Whether a query of this capture other than a relation's loaded rows of `model`."""
        if model is None or not self._track_access:
            return False
        return any(q.model == model and q.relation is None for q in self.queries)

    def _built_by(self, owner: Any) -> int | None:
        if not self._track_access:
            return None
        access = self._access
        return access.built_by(owner) if access is not None else -1  # no row was built

    def _analyse_repeat(self, sql: str, frame: Any, params: Any, first_params: Any) -> RawQuery:
        found = walk(frame, deep=True)
        queryset = attribution.queryset_of(found)
        if not found.handed_off and attribution.evaluates_an_argument(found, queryset):
            found.handed_off = True
        query = self._located(sql, found, repeat=True)
        query.prefetch = found.prefetch is not None
        if queryset is not None:
            query.model = attribution.label(queryset.model)
        query.relation = attribution.with_manager_filters(
            attribution.relation_of(found, queryset), queryset
        )
        owner = attribution.owner_of(queryset) if queryset is not None else None
        if owner is not None:
            query.rows_from = self._built_by(owner)
        elif queryset is not None:
            query.choices = sites.choices_of(frame, found)
        first = self._owners.get(sql) if self._owners is not None else None
        same_owner = first is not None and owner is not None and first() is owner
        if (
            query.relation is not None
            and query.relation.kind == "many"
            and same_owner
            and queryset is not None
            # a membership test filters the set to a row; the set read whole again is that read
            # repeated, not a question about each row
            and attribution.filtered_beyond_manager(queryset)
        ):
            query.relation = (
                attribution.membership_relation(queryset, query.relation) or query.relation
            )
            if query.relation.constant:
                query.rows_from = None  # the set's owner is the same object; the rows are others
        if (
            same_owner
            and query.relation is not None
            and not query.relation.constant
            and lookups.equal(params, first_params)
        ):
            # One object's relation read again with the same parameters: when every run has them,
            # a duplicate query (hoist it), not one query per row.
            query.relation = replace(query.relation, same_object=True)
        if query.relation is not None and query.relation.many and queryset is not None:
            ordering = attribution.explicit_ordering(queryset)
            if ordering:
                query.relation = replace(query.relation, ordering=ordering)
        if query.relation is None and queryset is not None:
            query.lookups = lookups.fk_lookups(
                queryset, attribution.via_of(found), params, first_params, found.project
            )
        elif owner is not None and not same_owner:
            _remember_relation_repeat(sql, found, query, owner, frame)
        return query

    @staticmethod
    def _located(sql: str, found: Walk, *, repeat: bool) -> RawQuery:
        callsite: CallSite | None = None
        render_site: CallSite | None = None
        filename: str | None = None
        quoted_site: CallSite | None = None
        if found.template is not None:
            callsite = sites.template_site(found)
            render_site = callsite_of(found.render) if found.render is not None else None
            inner = found.project
            if inner is not None and inner is not found.render:
                # project code the template called (a model method): its statement is quoted
                filename = inner.f_code.co_filename
                quoted_site = callsite_of(inner)
        if callsite is None and found.serializer is not None and (repeat or found.project is None):
            # A DRF field read the relation; the project line above it only asked for
            # `serializer.data` (a view's own list()): the field's declaration is what to change.
            # With no project line at all, the first run is named now, so that a statement that
            # first ran elsewhere (authentication loading the user) is not taken for the field's.
            callsite = sites.serializer_site(found)
        if callsite is None and found.project is not None:
            callsite = callsite_of(found.project)
            filename = found.project.f_code.co_filename
        caller = None
        if found.project is not None and found.template is None and _writes(sql):
            caller = sites.caller_of_method(found.project)
        return RawQuery(
            sql,
            None,
            False,
            "",
            0.0,
            callsite,
            filename,
            render_site,
            handed_off=found.handed_off and found.template is None,
            quoted_site=quoted_site,
            caller=caller,
        )

    @staticmethod
    def _backfill(first: RawQuery, second: RawQuery, project: Any) -> None:
        """The first run of a statement was walked cheaply: give it what the second run learnt,
        when both came from the same project line (or both from no project line)."""
        # With no project line, the runs are alike when their template or serializer field is.
        same = (
            first.callsite == second.callsite
            if project is None
            else first.callsite == callsite_of(project)
        )
        if not same:
            return
        if (first.relation is None and not first.lookups) or (
            second.relation is not None
            and (second.relation.constant or second.relation.same_object)
        ):
            first.relation, first.lookups = second.relation, second.lookups
            first.rows_from = second.rows_from
        if second.callsite is not None:
            first.callsite, first.render_site = second.callsite, second.render_site
            first.filename, first.quoted_site = second.filename, second.quoted_site


class TimingCapture(QueryCapture):
    """The statements and their times only (no frame walk, no attribution, no cache or relation
    tracking): for a request that was not sampled, kept only if it turns out slow."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(track_cache=False, track_access=False)

    def _record(self, sql: str, params: Any, many: bool, alias: str, ms: float) -> None:
        if sql not in self._first and sql.lstrip().startswith(_CONNECTION_SETUP):
            return
        self._first.setdefault(sql, len(self.queries))
        self.queries.append(RawQuery(sql, params, many, alias, ms, None, None))


@contextmanager
def capture_queries(**options: bool) -> Iterator[QueryCapture]:
    """Capture the queries of a block of code (tests, scripts): `with capture_queries() as c:`."""
    capture = QueryCapture(**options)
    with capture:
        yield capture

"""QueryCapture: every statement on every database alias, while a capture is active.

Installed with Django's documented hook, `connection.execute_wrapper()`, on each connection of the
current thread (connections are thread-local, so under ASGI it is installed in the thread that
runs the ORM) and always removed in `finally`. The active capture is found through a ContextVar, so
concurrent requests never see each other's queries.

Per query the cost is a timer, a dict count and a frame walk to the first project frame; what the
ORM knows about the query (which relation fired it) is read only when the statement repeats.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import Token
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from django.db import connections

from perftoolkit.core.events import CallSite, Relation
from perftoolkit.instrumentation import attribution, context
from perftoolkit.instrumentation.accesses import AccessTracker
from perftoolkit.instrumentation.cachestats import CacheCounter
from perftoolkit.instrumentation.frames import callsite_of, walk

_active = context.current


def active_captures() -> tuple[QueryCapture, ...]:
    captures: tuple[QueryCapture, ...] = _active.get()
    return captures


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


class QueryCapture:
    """Records the queries (and cache reads, and relation reads) of one unit of work."""

    def __init__(self, *, track_cache: bool = True, track_access: bool = True) -> None:
        self.queries: list[RawQuery] = []
        self._first: dict[str, int] = {}
        self._exit: ExitStack | None = None
        self._token: Token[Any] | None = None
        self.cache = CacheCounter() if track_cache else None
        self.access = AccessTracker() if track_access else None

    # -- scope ---------------------------------------------------------------------------------

    def activate(self) -> None:
        """Make this the current context's capture (call where the request's context lives)."""
        self._token = _active.set((*_active.get(), self))

    def deactivate(self) -> None:
        if self._token is not None:
            _active.reset(self._token)
            self._token = None

    def install(self) -> None:
        """Hook every connection (and cache) of the calling thread."""
        stack = ExitStack()
        try:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(self))
            if self.cache is not None:
                stack.enter_context(self.cache.installed())
            if self.access is not None:
                stack.enter_context(self.access.installed())
        except BaseException:
            stack.close()
            raise
        self._exit = stack

    def uninstall(self) -> None:
        if self._exit is not None:
            exit_stack, self._exit = self._exit, None
            exit_stack.close()

    def __enter__(self) -> QueryCapture:
        self.activate()
        try:
            self.install()
        except BaseException:
            self.deactivate()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.uninstall()
        finally:
            self.deactivate()

    # -- the wrapper ---------------------------------------------------------------------------

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        if self not in _active.get():
            return execute(sql, params, many, context)
        start = perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (perf_counter() - start) * 1000.0
            self._record(sql, params, many, context["connection"].alias, elapsed, sys._getframe(1))

    def _record(self, sql: str, params: Any, many: bool, alias: str, ms: float, frame: Any) -> None:
        first = self._first.get(sql)
        repeat = first is not None
        found = walk(frame, deep=repeat)
        queryset = attribution.queryset_of(found)
        callsite: CallSite | None = None
        render_site: CallSite | None = None
        filename: str | None = None
        if found.template is not None:
            callsite = attribution.template_site(found)
            render_site = callsite_of(found.render) if found.render is not None else None
        if callsite is None and found.project is not None:
            callsite = callsite_of(found.project)
            filename = found.project.f_code.co_filename
        if callsite is None and repeat and found.serializer is not None:
            callsite = attribution.serializer_site(found)
        query = RawQuery(
            sql=sql,
            params=params,
            many=many,
            alias=alias,
            ms=ms,
            callsite=callsite,
            filename=filename,
            render_site=render_site,
            model=attribution.label(queryset.model) if queryset is not None else None,
            prefetch=found.prefetch is not None,
        )
        if repeat:
            query.relation = attribution.relation_of(found, queryset)
            if query.relation is None and queryset is not None:
                query.lookups = attribution.fk_lookups(queryset, attribution.via_of(found))
            self._backfill(self.queries[first], query, found.project)  # type: ignore[index]
        else:
            self._first[sql] = len(self.queries)
            if queryset is not None and found.prefetch is None:
                eager = attribution.eager_paths(queryset)
                if eager:
                    model = queryset.model
                    if self.access is not None:
                        self.access.watch(model)
                    query.eager = eager
                    query.eager_hops = tuple(attribution.path_hops(model, p) for _, p in eager)
                    query.eager_targets = tuple(attribution.path_target(model, p) for _, p in eager)
                    if found.project is not None and found.template is None:
                        query.eager_site = attribution.definition_site(
                            found.project, ("select_related", "prefetch_related")
                        )
        self.queries.append(query)

    @staticmethod
    def _backfill(first: RawQuery, second: RawQuery, project: Any) -> None:
        """The first run of a statement was walked cheaply: give it what the second run learnt,
        when both came from the same project line (or both from no project line)."""
        if first.relation is not None or first.lookups:
            return
        same = first.callsite is None if project is None else first.callsite == callsite_of(project)
        if same:
            first.relation, first.lookups = second.relation, second.lookups
            if second.callsite is not None:
                first.callsite, first.render_site = second.callsite, second.render_site
                first.filename = second.filename


@contextmanager
def capture_queries(**options: bool) -> Iterator[QueryCapture]:
    """Capture the queries of a block of code (tests, scripts): `with capture_queries() as c:`."""
    capture = QueryCapture(**options)
    with capture:
        yield capture

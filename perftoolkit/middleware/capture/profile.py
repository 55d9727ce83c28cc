"""A finished capture → `RequestProfile` (plain data): fingerprints, parameter keys, sources.

Runs after the response. Parameter values are hashed with a per-process random key, so equal
parameters compare equal within this process and nothing about their values leaves it.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from functools import lru_cache
from operator import attrgetter
from typing import Any

from perftoolkit.conf import on_settings_reset
from perftoolkit.core.events import (
    CacheStats,
    CallSite,
    EagerLoad,
    QueryEvent,
    Relation,
    RequestProfile,
    add_request_target,
    query_row,
    round3,
    round6,
)
from perftoolkit.core.fingerprint import fingerprint
from perftoolkit.middleware.capture.capture import QueryCapture, RawQuery
from perftoolkit.middleware.capture.sites import local_names, source_line, view_queryset_site

logger = logging.getLogger("perftoolkit")

_SALT = secrets.randbits(64)


def params_key(params: Any) -> str:
    """Equal for equal parameters within this process; says nothing of them outside it.

    Python's string hash is keyed per process, and the random salt keeps the key secret even
    when PYTHONHASHSEED fixes that key.
    """
    return "%016x" % (hash((_SALT, repr(params))) & 0xFFFFFFFFFFFFFFFF)  # faster than format()


def build_profile(
    capture: QueryCapture,
    *,
    method: str,
    route: str,
    view: str = "",
    status: int = 200,
    started_at: float = 0.0,
    duration_ms: float = 0.0,
    view_class: Any = None,
    path: str = "",
    query_string: str = "",
    user: int | str | None = None,
) -> RequestProfile:
    raw = capture.queries
    cache, access = capture.counted()
    counts = Counter(q.sql for q in raw)
    quoted: set[tuple[str, CallSite | None]] = set()
    events: list[QueryEvent] = []
    for query in raw:
        repeated = counts[query.sql] > 1
        # The statement's source is what a fix quotes: once per line is enough.
        quote = (repeated or _filtered_read(query)) and (query.sql, query.callsite) not in quoted
        source = names = None
        if quote:
            quoted.add((query.sql, query.callsite))
            quoted_at = query.quoted_site or query.callsite
            source = source_line(quoted_at, query.filename)
            names = local_names(quoted_at, query.filename, source)
        events.append(
            QueryEvent(
                sql=query.sql,
                fingerprint=fingerprint(query.sql),
                ms=query.ms,
                alias=query.alias,
                callsite=query.callsite,
                render_site=query.render_site,
                relation=query.relation,
                model=query.model,
                params_key=params_key(query.params) if repeated else None,
                many=query.many,
                eager=query.eager,
                source=source,
                local_names=names or (),
                lookups=query.lookups,
                prefetch=query.prefetch,
                handed_off=query.handed_off,
                default_ordering=query.default_ordering,
                rows_from=query.rows_from,
                session=query.session,
                choices=query.choices,
                caller=query.caller,
            )
        )
    return RequestProfile(
        method=method,
        route=route,
        view=view,
        status=status,
        started_at=started_at,
        duration_ms=duration_ms,
        queries=tuple(events),
        cache=cache.stats() if cache is not None else CacheStats(),
        eager_loads=_eager_loads(raw),
        accessed=access.accessed() if access is not None else frozenset(),
        loaded=access.loaded_models() if access is not None else frozenset(),
        queryset_site=queryset_site(view_class, raw) if view_class is not None else None,
        queryset_model=queryset_model(view_class),
        path=path,
        query_string=query_string,
        user=user,
    )


def _eager_loads(raw: list[Any]) -> tuple[EagerLoad, ...]:
    eager: dict[tuple[str, str, str, CallSite | None], EagerLoad] = {}
    for query in raw:
        if not query.eager:
            continue
        # A queryset handed to library code was built elsewhere: the view's queryset, if any.
        elsewhere = None if query.handed_off else query.callsite
        # Each load where it was asked for (`eager_sites`, made beside `eager`): a base view
        # adding its own to a subclass's queryset did not ask for the subclass's.
        sites = [s or elsewhere for s in query.eager_sites] or [
            query.eager_site or elsewhere
        ] * len(query.eager)
        for (kind, path), hops, target, site in zip(
            query.eager, query.eager_hops, query.eager_targets, sites, strict=False
        ):
            key = (query.model or "", kind, path, site)
            if key not in eager:
                eager[key] = EagerLoad(
                    model=query.model or "",
                    path=path,
                    kind=kind,
                    callsite=site,
                    target=target,
                    hops=hops,
                )
    return tuple(eager.values())


@lru_cache(maxsize=256)  # once per view class, not once per request
def queryset_model(view_class: Any) -> str:
    """app_label.Model of the rows a class-based view names: its `queryset`'s model, else its
    `model`; "" when it names none (a `get_queryset` alone, a function view)."""
    if view_class is None:
        return ""
    try:
        model = getattr(getattr(view_class, "queryset", None), "model", None) or getattr(
            view_class, "model", None
        )
        meta = getattr(model, "_meta", None) if isinstance(model, type) else None
        return str(meta.label) if meta is not None else ""
    except Exception as exc:  # a descriptor or property on the class that fails outside a request
        logger.debug("perftoolkit: the model of %r is not known: %r", view_class, exc)
        return ""


def queryset_site(view_class: Any, raw: list[Any] | None = None) -> CallSite | None:
    """Where the view builds the queryset of its rows (`sites.view_queryset_site`), chosen among
    get_queryset's returns by the eager loads of the queryset library code evaluated."""
    return view_queryset_site(view_class, _handed_off_eager(raw) if raw else None)


def _handed_off_eager(raw: list[Any]) -> frozenset[tuple[str, str]] | None:
    """The eager loads of the first queryset a library (a paginator, a generic view, a serializer)
    evaluated: the view's rows, when the view hands its queryset over."""
    for query in raw:
        if query.handed_off and not query.prefetch and query.model is not None:
            return frozenset(query.eager)
    return None


def profile_dict(
    capture: QueryCapture,
    *,
    method: str,
    route: str,
    view: str = "",
    status: int = 200,
    started_at: float = 0.0,
    duration_ms: float = 0.0,
    view_class: Any = None,
    path: str = "",
    query_string: str = "",
    user: int | str | None = None,
) -> dict[str, Any]:
    """The recording line of a request: equal to `build_profile(...).to_dict()` (a test holds
    them equal), built without the intermediate value objects because it runs after every
    recorded request."""
    return profile_line(
        capture, method, route, view, status, round6(started_at), round3(duration_ms), view_class,
        path, query_string, user,
    )  # fmt: skip


def profile_line(
    capture: QueryCapture,
    method: str,
    route: str,
    view: str,
    status: int,
    started_at: float,
    duration_ms: float,
    view_class: Any,
    path: str,
    query_string: str,
    user: int | str | None,
) -> dict[str, Any]:
    """`profile_dict` with its fields in order (the middleware's request description), its times
    already to the microsecond as the middleware and the query hook take them (`round6` and
    `round3` leave such values as they are, so nothing is rounded here). Runs of a statement from
    one line share their callsite and relation objects, so those are looked up by identity."""
    raw = capture.queries
    cache, access = capture._cache, capture._access  # counted(), without the call
    statements: dict[str, str] = {}
    queries: list[list[Any]] = []
    sites: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []
    if raw:
        tables = _Tables(sites, relations)
        _query_dicts(raw, statements, queries, tables)
    # One literal (a dict grown key by key is resized on the way); the optional keys follow.
    line: dict[str, Any] = {
        "method": method,
        "route": route,
        "view": view,
        "status": status,
        "started_at": started_at,
        "duration_ms": duration_ms,
        "statements": statements,
        "queries": queries,
        "cache": {"gets": cache.gets, "hits": cache.hits} if cache is not None else {
            "gets": 0, "hits": 0
        },
        "sites": sites,
        "relations": relations,
    }  # fmt: skip
    add_request_target(line, path, query_string, user)
    if raw:
        eager_loads = _eager_loads(raw)
        if eager_loads:
            line["eager_loads"] = [e.to_dict() for e in eager_loads]
    if access is not None:
        if access.seen:
            line["accessed"] = sorted([m, f] for m, f in access.accessed())
        if access.loaded:
            line["loaded"] = sorted(access.loaded_models())
    if view_class is not None:
        site_of_queryset = queryset_site(view_class, raw)
        if site_of_queryset is not None:
            line["queryset_site"] = site_of_queryset.to_dict()
        model_of_queryset = queryset_model(view_class)
        if model_of_queryset:
            line["queryset_model"] = model_of_queryset
    return line


# The lines of recorded requests by shape, for `known_line`: the line `profile_line` built for the
# shape's first request, without what is the request's own, and its rows (their times to fill
# in); None for a shape whose rows hold more.
_KnownLine = tuple[dict[str, Any], list[list[Any]]]
_known_lines: dict[tuple[Any, ...], _KnownLine | None] = {}
on_settings_reset(_known_lines.clear)  # PROJECT_ROOT: the sites' files
_KNOWN_LINES_MAX = 4096
_UNKNOWN: Any = object()


def known_line(capture: QueryCapture, *request: Any) -> dict[str, Any]:
    """`profile_line(capture, *request)`, made from the line of an earlier request of the same
    shape when there is one: a request each of whose statements ran once, with every field its row
    shows but its time as in that request (`SHAPE_FIELDS`: statement, callsite, relation, model,
    eager loads, what evaluated it…). Most requests of a few queries are such; their lines differ
    from the first one's in their times, target, cache reads and relations read. Any other
    request has its line built. The line's objects but its own rows and numbers may be shared
    with the shape's other lines: it is to be encoded, not changed (`split` changes the lines it
    reads)."""
    method, route, view, status, started_at, duration_ms, view_class, path, query_string, user = (
        request
    )
    raw = capture.queries
    # Every field of each statement that its row shows but its time and parameters (`shape_key`'s);
    # a statement that repeats has its parameters in its rows: no key.
    key: tuple[Any, ...] | None = None
    if len(raw) < 2 or len({q.sql for q in raw}) == len(raw):
        key = (method, route, view, view_class, *map(_content, raw))
    try:
        known = _known_lines.get(key, _UNKNOWN) if key is not None else None
    except TypeError:  # a field's value cannot be hashed: the line is built key by key
        _unhashable()
        key = known = None
    if known is None or known is _UNKNOWN:
        built = profile_line(capture, *request)
        if key is not None:
            _learn(key, built, raw)
        return built
    fixed, rows = known
    line: dict[str, Any] = fixed.copy()
    line["status"] = status
    line["started_at"] = started_at
    line["duration_ms"] = duration_ms
    queries = line["queries"] = []
    append = queries.append
    for row, query in zip(rows, raw, strict=True):
        row = row.copy()
        row[1] = round3(query.ms)
        append(row)
    cache, access = capture._cache, capture._access
    if cache is not None:
        line["cache"] = {"gets": cache.gets, "hits": cache.hits}
    if path or query_string or user is not None:
        add_request_target(line, path, query_string, user)
    if access is not None:
        if access.seen:
            line["accessed"] = sorted([m, f] for m, f in access.accessed())
        if access.loaded:
            line["loaded"] = sorted(access.loaded_models())
    return line


_said_unhashable = False


def _unhashable() -> None:
    """Say once, from an `except` block, that a statement's fields could not be hashed: every
    field the capture sets is meant to be, and its requests' lines are now each built in full."""
    global _said_unhashable
    if not _said_unhashable:
        _said_unhashable = True
        logger.warning(
            "perftoolkit: a recorded statement holds a value that cannot be hashed; the lines of "
            "its requests are built in full, each time",
            exc_info=True,
        )


def _learn(key: tuple[Any, ...], line: dict[str, Any], raw: list[RawQuery]) -> None:
    """Keep the line of a shape first seen for `known_line`, without what is the request's own;
    None when its rows hold what another request of the shape may not (a quoted source line,
    read from its file)."""
    rows: list[list[Any]] = line["queries"]
    known: _KnownLine | None = None
    # [fingerprint, ms, site, relation, model, params key, extra]: no params key, and no source
    # line quoted (a filtered relation read's, read from its file)
    if all(len(row) <= 5 or row[5] is None for row in rows) and not any(
        _filtered_read(q) for q in raw
    ):
        fixed = {
            name: value
            for name, value in line.items()
            if name not in ("path", "query", "user", "accessed", "loaded")
        }
        fixed["queries"] = []
        fixed["cache"] = {"gets": 0, "hits": 0}
        known = (fixed, [row.copy() for row in rows])
    if len(_known_lines) >= _KNOWN_LINES_MAX:
        _known_lines.clear()
    _known_lines[key] = known


class _Tables:
    """The shared sites and relations of one recording line; runs of one line share their objects,
    so they are found by identity before equality."""

    __slots__ = ("_index", "relations", "sites")

    def __init__(self, sites: list[dict[str, Any]], relations: list[dict[str, Any]]) -> None:
        self.sites = sites
        self.relations = relations
        self._index: dict[Any, int] = {}

    def site(self, value: CallSite) -> int:
        return self._ref(value, self.sites)

    def relation(self, value: Relation) -> int:
        return self._ref(value, self.relations)

    def _ref(self, value: Any, table: list[dict[str, Any]]) -> int:
        index = self._index.get(id(value))
        if index is None:
            index = self._index.get(value)
            if index is None:
                index = self._index[value] = len(table)
                table.append(value.to_dict())
            self._index[id(value)] = index
        return index


def _query_dicts(
    raw: list[Any], statements: dict[str, str], queries: list[list[Any]], tables: _Tables
) -> None:
    # A single statement cannot repeat: no count to take (the one-query request's common case).
    counts = Counter([q.sql for q in raw]) if len(raw) > 1 else None
    quoted: set[tuple[str, CallSite | None]] = set()
    # Runs repeating one analysed run (a repeated statement, so each has a params key) share
    # everything but ms and params_key: encode it once. The first run of each is quoted; the
    # others share its statement and callsite, so they never are.
    shared: dict[int, tuple[str, int | None, int | None, str | None, Any]] = {}
    append = queries.append
    for query in raw:
        template = query.template
        known = shared.get(id(template)) if template is not None else None
        if known is not None:
            fp, site, relation, model, rare = known
            # query_row() inline, for the N+1's runs: the key ends the row unless `rare`.
            row = [fp, query.ms, site, relation, model, params_key(query.params)]
            if rare is not None:
                row.append(rare)
            append(row)
            continue
        sql = query.sql
        fp = fingerprint(sql)
        statements.setdefault(fp, sql)
        # The rare fields first: table indexes are given in RequestProfile.to_dict()'s order.
        rare = _extra(query, tables, {}) if _has_extra(query) else None
        site = tables.site(query.callsite) if query.callsite is not None else None
        relation = tables.relation(query.relation) if query.relation is not None else None
        model = query.model or None
        repeated = counts is not None and counts[sql] > 1
        if template is not None and repeated:
            shared[id(template)] = (fp, site, relation, model, rare)
        key, extra = None, rare
        if repeated:
            key = params_key(query.params)
        if (repeated or _filtered_read(query)) and (sql, query.callsite) not in quoted:
            quoted.add((sql, query.callsite))
            quoted_at = query.quoted_site or query.callsite
            text = source_line(quoted_at, query.filename)
            if text:
                extra = {**(rare or {}), "source": text}
                names = local_names(quoted_at, query.filename, text)
                if names:
                    extra["locals"] = list(names)
        append(query_row(fp, query.ms, site, relation, model, key, extra))


def shape_key(
    capture: QueryCapture, method: str, route: str, view: str, view_class: Any
) -> tuple[Any, ...]:
    """What the request's record line would hold without its numbers (`record_lines.split`), as
    a hashable value built without the line: every input of that shape is in it, so two requests
    with equal keys have equal shapes (the reverse may not hold: a key may tell apart shapes that
    come out equal, which costs a diagnosis, never a wrong one). For MODE "log", which looks a
    request's diagnosis up by its shape after every response."""
    raw = capture.queries
    counts = Counter([q.sql for q in raw]) if len(raw) > 1 else None
    parts: list[tuple[Any, ...]] = []
    shared: dict[int, int] = {}  # id(template) → its runs' part (runs of one template are alike)
    values: dict[str, int] = {}  # the pattern of equal parameters, as the line's params keys
    rows: list[Any] = []
    append = rows.append
    for query in raw:
        template = query.template
        part = shared.get(id(template)) if template is not None else None
        if part is None:
            part = len(parts)
            parts.append(_content(query))
            if template is not None:
                shared[id(template)] = part
        if counts is not None and counts[query.sql] > 1:
            value = repr(query.params)
            equal = values.get(value)
            if equal is None:
                equal = values[value] = len(values)
            append((part, equal))
        else:
            append(part)
    access = capture.counted()[1]
    accessed: tuple[Any, ...] = ()
    if access is not None:
        accessed = (
            tuple(sorted(access.accessed())) if access.seen else (),
            tuple(sorted(access.loaded_models())) if access.loaded else (),
        )
    return (method, route, view, view_class, tuple(parts), tuple(rows), accessed)


# Every field of a captured statement that its row of the line shows, but its time and parameters
# (and `template`, which only says which rows share the rest); one C call makes the tuple.
SHAPE_FIELDS = tuple(
    name for name in RawQuery.__dataclass_fields__ if name not in ("params", "ms", "template")
)
_content = attrgetter(*SHAPE_FIELDS)


def _filtered_read(query: Any) -> bool:
    """A relation read once that did more than read it (`.count()`, `.filter(…)`): a fix repeats
    the filters of its source line."""
    relation = query.relation
    return relation is not None and relation.via != "get"


def _has_extra(query: Any) -> bool:
    return bool(
        query.alias != "default"
        or query.render_site
        or query.many
        or query.eager
        or query.lookups
        or query.prefetch
        or query.handed_off
        or query.default_ordering
        or query.rows_from is not None
        or query.session
        or query.choices is not None
        or query.caller is not None
    )


def _extra(query: Any, tables: _Tables, extra: dict[str, Any]) -> dict[str, Any]:
    if query.alias != "default":
        extra["alias"] = query.alias
    if query.render_site is not None:
        extra["render_site"] = tables.site(query.render_site)
    if query.many:
        extra["many"] = True
    if query.eager:
        extra["eager"] = [list(e) for e in query.eager]
    if query.lookups:
        extra["lookups"] = [tables.relation(r) for r in query.lookups]
    if query.prefetch:
        extra["prefetch"] = True
    if query.handed_off:
        extra["handed_off"] = True
    if query.default_ordering:
        extra["default_ordering"] = list(query.default_ordering)
    if query.rows_from is not None:
        extra["rows_from"] = query.rows_from
    if query.session:
        extra["session"] = True
    if query.choices is not None:
        extra["choices"] = query.choices.to_dict(tables.site)
    if query.caller is not None:
        extra["caller"] = tables.site(query.caller)
    return extra

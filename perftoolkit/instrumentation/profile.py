"""A finished capture → `RequestProfile` (plain data): fingerprints, parameter keys, sources.

Runs after the response. Parameter values are hashed with a per-process random key, so equal
parameters compare equal within this process and nothing about their values leaves it.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
import secrets
import textwrap
from collections import Counter
from functools import lru_cache
from typing import Any

from perftoolkit.core.events import CacheStats, CallSite, EagerLoad, QueryEvent, RequestProfile
from perftoolkit.core.fingerprint import fingerprint
from perftoolkit.instrumentation.attribution import source_line
from perftoolkit.instrumentation.capture import QueryCapture
from perftoolkit.instrumentation.frames import Kind, classify, relative_path

_SALT = secrets.token_bytes(16)


def params_key(params: Any) -> str:
    digest = hashlib.blake2b(repr(params).encode(errors="replace"), key=_SALT, digest_size=8)
    return digest.hexdigest()


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
) -> RequestProfile:
    raw = capture.queries
    counts = Counter(q.sql for q in raw)
    quoted: set[tuple[str, CallSite | None]] = set()
    events: list[QueryEvent] = []
    eager: dict[tuple[str, str, str, CallSite | None], EagerLoad] = {}
    for query in raw:
        repeated = counts[query.sql] > 1
        # The statement's source is what a fix quotes: once per line is enough.
        quote = repeated and (query.sql, query.callsite) not in quoted
        if quote:
            quoted.add((query.sql, query.callsite))
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
                source=source_line(query.callsite, query.filename) if quote else None,
                lookups=query.lookups,
                prefetch=query.prefetch,
            )
        )
        site = query.eager_site or query.callsite
        for (kind, path), hops, target in zip(
            query.eager, query.eager_hops, query.eager_targets, strict=False
        ):
            key = (query.model or "", kind, path, site)
            eager.setdefault(
                key,
                EagerLoad(
                    model=query.model or "",
                    path=path,
                    kind=kind,
                    callsite=site,
                    target=target,
                    hops=hops,
                ),
            )
    return RequestProfile(
        method=method,
        route=route,
        view=view,
        status=status,
        started_at=started_at,
        duration_ms=duration_ms,
        queries=tuple(events),
        cache=capture.cache.stats() if capture.cache is not None else CacheStats(),
        eager_loads=tuple(eager.values()),
        accessed=capture.access.accessed() if capture.access is not None else frozenset(),
        loaded=capture.access.loaded_models() if capture.access is not None else frozenset(),
        queryset_site=queryset_site(view_class) if view_class is not None else None,
    )


@lru_cache(maxsize=256)
def queryset_site(view_class: Any) -> CallSite | None:
    """Where a class-based view defines its queryset: `get_queryset` or a `queryset =` line."""
    for klass in getattr(view_class, "__mro__", ()):
        try:
            filename = inspect.getsourcefile(klass)
        except TypeError:
            continue
        if not filename or classify(os.path.abspath(filename)) is not Kind.PROJECT:
            continue
        method = vars(klass).get("get_queryset")
        if method is not None:
            line = _last_return(method)
            if line is not None:
                return CallSite(relative_path(filename), line, f"{klass.__name__}.get_queryset")
        if "queryset" in vars(klass):
            line = _assignment_line(klass, "queryset")
            if line is not None:
                return CallSite(relative_path(filename), line, f"{klass.__name__}.queryset")
    return None


def _last_return(function: Any) -> int | None:
    try:
        lines, start = inspect.getsourcelines(function)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return None
    returns = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Return)]
    return start + max(returns) - 1 if returns else start


def _assignment_line(klass: type, name: str) -> int | None:
    try:
        lines, start = inspect.getsourcelines(klass)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return start + node.lineno - 1
    return None

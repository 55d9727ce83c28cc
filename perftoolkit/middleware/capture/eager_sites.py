"""Where a queryset's eager loads were asked for: the project line that called `select_related()`
or `prefetch_related()`, kept with the queryset until it runs.

The line that runs a queryset is often not the one that built it: a model's property returns
`self.grants.select_related("category")` and a template tag iterates it. An unused eager load is
removed where it was asked for, and that line is also what tells two endpoints' uses of one
queryset apart from two querysets. `QuerySet.select_related` and `prefetch_related` are wrapped
(once per process); while a capture is active, the clone they return keeps the calling project
line in its `Query`'s `__dict__`, which every further clone (`filter()`, `order_by()`) copies. The
value is a plain tuple, so a queryset pickled into a cache unpickles without perftoolkit.

Each call is kept with the lookups it asked for: a base view's `get_queryset` adding prefetches
to a subclass's queryset (NetBox's serializer-driven ones) did not ask for the subclass's own,
which are placed where they were asked (or, asked outside any capture, at the view's queryset).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

from perftoolkit.core.events import CallSite
from perftoolkit.middleware.capture import context
from perftoolkit.middleware.capture.frames import MAX_DEPTH, Kind, callsite_of, classify

logger = logging.getLogger("perftoolkit")
KEY = "perftoolkit_eager_site"
_METHODS = ("select_related", "prefetch_related")
_active = context.current


@context.once
def install_eager_sites() -> None:
    """Wrap QuerySet's eager-load methods (once per process). A method that cannot be wrapped is
    logged: its eager loads are then placed where the queryset runs, as before."""
    try:
        from django.db.models.query import QuerySet

        for name in _METHODS:
            method = QuerySet.__dict__[name]
            if not getattr(method, "_perftoolkit", False):
                setattr(QuerySet, name, _wrapped(method))
    except Exception:
        logger.warning(
            "perftoolkit: cannot note where eager loads are asked for; unused ones are named "
            "where their queryset runs",
            exc_info=True,
        )


def _wrapped(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def eager(self: Any, *args: Any, **kwargs: Any) -> Any:
        clone = method(self, *args, **kwargs)
        if _active.get():
            try:
                site = _caller(sys._getframe(1))
                if site is not None:
                    asked = tuple(_lookup(a) for a in args)
                    earlier = _entries(clone.query.__dict__.get(KEY))
                    clone.query.__dict__[KEY] = (*earlier, (*site, asked))
            except Exception:  # never the host's problem: the site is left unknown
                logger.debug("perftoolkit: eager load site not noted", exc_info=True)
        return clone

    eager._perftoolkit = True  # type: ignore[attr-defined]
    return eager


def _caller(frame: Any) -> tuple[str, int, str] | None:
    """The first project frame out from `frame` (a manager's proxy, a library's helper in
    between), as (file, line, function); None when the view boundary comes first."""
    depth = 0
    while frame is not None and depth < MAX_DEPTH:
        code = frame.f_code
        kind = classify(code.co_filename)
        if kind is Kind.PROJECT:
            site = callsite_of(frame)
            return (site.file, site.line, site.function)
        if kind is Kind.HANDLER:
            return None
        frame = frame.f_back
        depth += 1
    return None


def _lookup(value: Any) -> str:
    """A lookup as its path (a Prefetch object by `prefetch_to`; `None` clears: "")."""
    if isinstance(value, str):
        return value
    return str(getattr(value, "prefetch_to", "") or "")


def _entries(value: Any) -> tuple[tuple[Any, ...], ...]:
    """The calls noted on a query: (file, line, function, lookups asked), oldest first."""
    if type(value) is not tuple:
        return ()
    return tuple(e for e in value if type(e) is tuple and len(e) == 4)


def eager_site(queryset: Any, path: str | None = None) -> CallSite | None:
    """The project line that asked for `queryset`'s eager loads (the last one a capture saw), or
    with `path` the line that asked for that path (or a longer one through it); None when no
    capture saw it asked for."""
    entries = _entries(getattr(getattr(queryset, "query", None), "__dict__", {}).get(KEY))
    for file, line, function, asked in reversed(entries):
        # `select_related()` with no lookup asks for every foreign key
        if path is None or not asked or any(a == path or a.startswith(f"{path}__") for a in asked):
            return CallSite(file, line, function)
    return None

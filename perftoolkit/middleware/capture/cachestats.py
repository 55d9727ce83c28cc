"""Cache reads per request: gets and hits through Django's cache framework, every alias.

Cache objects are per thread (like connections). The counting `get`/`get_many` are set on each
cache object of a thread the first time a capture runs there, and stay: outside a capture they
cost one ContextVar read.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.cache import caches

from perftoolkit.core.events import CacheStats
from perftoolkit.middleware.capture import context
from perftoolkit.middleware.capture.failures import failed

_MISSING = object()
# True inside a counted get_many, whose default implementation calls get() once per key.
_in_get_many: ContextVar[bool] = ContextVar("perftoolkit_in_get_many", default=False)


class CacheCounter:
    __slots__ = ("gets", "hits")

    def __init__(self) -> None:
        self.gets = 0
        self.hits = 0

    def stats(self) -> CacheStats:
        return CacheStats(self.gets, self.hits)


_FLAG = "_perftoolkit_counting"


# Which thread has its cache objects wrapped, for which configuration of CACHES.
_wrapped = context.PerThread("CACHES")


def install_cache_counting() -> None:
    """Count reads on every cache alias of the calling thread (once per cache object). A cache
    object the thread has not made yet is wrapped as Django makes it: making one here would leave
    Django closing it after every request (`close_caches`), a cost of ours in an application that
    never reads that cache."""
    if _wrapped.done():
        return
    _wrapped.mark(_wrapped.generation)
    _wrap_created()
    for cache in caches.all(initialized_only=True):
        _wrap(cache)


def _wrap(cache: Any) -> None:
    if cache.__dict__.get(_FLAG):
        return
    cache.get = _counting_get(cache.get)
    cache.get_many = _counting_get_many(cache.get_many)
    setattr(cache, _FLAG, True)


def _wrap_created() -> None:
    """Wrap each cache object Django makes from now on, in every thread (once per process: the
    handler outlives a change of CACHES, which only empties its objects)."""
    create = caches.create_connection
    if getattr(create, _FLAG, False):
        return

    def create_connection(alias: str) -> Any:
        cache = create(alias)
        try:
            _wrap(cache)
        except Exception:
            failed("cache", context.current.get())
        return cache

    setattr(create_connection, _FLAG, True)
    caches.create_connection = create_connection  # type: ignore[method-assign]


def _counters() -> list[CacheCounter]:
    return [c.cache for c in context.current.get() if c.cache is not None]


def _counting_get(original: Callable[..., Any]) -> Callable[..., Any]:
    def get(key: Any, default: Any = None, version: Any = None) -> Any:
        value = original(key, _MISSING, version=version)
        hit = value is not _MISSING
        try:
            if not _in_get_many.get():
                for counter in _counters():
                    counter.gets += 1
                    counter.hits += hit
        except Exception:
            failed("cache", context.current.get())
        return value if hit else default

    return get


def _counting_get_many(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_many(keys: Any, version: Any = None) -> Any:
        keys = list(keys)
        token = _in_get_many.set(True)
        try:
            found = original(keys, version=version)
        finally:
            _in_get_many.reset(token)
        try:
            for counter in _counters():
                counter.gets += len(keys)
                counter.hits += len(found)
        except Exception:
            failed("cache", context.current.get())
        return found

    return get_many

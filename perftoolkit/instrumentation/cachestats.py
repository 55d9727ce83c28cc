"""Cache reads per request: gets and hits through Django's cache framework, every alias.

Cache objects are per thread (like connections), so the counting methods are set on the
instances of the calling thread for the capture's lifetime, and the previous ones put back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import caches

from perftoolkit.core.events import CacheStats
from perftoolkit.instrumentation import context

_MISSING = object()
# True inside a counted get_many, whose default implementation calls get() once per key.
_in_get_many: ContextVar[bool] = ContextVar("perftoolkit_in_get_many", default=False)


class CacheCounter:
    def __init__(self) -> None:
        self.gets = 0
        self.hits = 0

    def stats(self) -> CacheStats:
        return CacheStats(self.gets, self.hits)

    @contextmanager
    def installed(self) -> Iterator[None]:
        patched: list[tuple[Any, str, Any]] = []
        try:
            for alias in getattr(settings, "CACHES", {}):
                cache = caches[alias]
                for name, wrap in (("get", _counting_get), ("get_many", _counting_get_many)):
                    previous = cache.__dict__.get(name, _MISSING)
                    setattr(cache, name, wrap(getattr(cache, name)))
                    patched.append((cache, name, previous))
            yield
        finally:
            for cache, name, previous in reversed(patched):
                if previous is _MISSING:
                    cache.__dict__.pop(name, None)
                else:
                    setattr(cache, name, previous)


def _counters() -> list[CacheCounter]:
    return [c.cache for c in context.current.get() if c.cache is not None]


def _counting_get(original: Callable[..., Any]) -> Callable[..., Any]:
    def get(key: Any, default: Any = None, version: Any = None) -> Any:
        value = original(key, _MISSING, version=version)
        hit = value is not _MISSING
        if _in_get_many.get():
            return value if hit else default
        for counter in _counters():
            counter.gets += 1
            counter.hits += hit
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
        for counter in _counters():
            counter.gets += len(keys)
            counter.hits += len(found)
        return found

    return get_many

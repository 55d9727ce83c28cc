"""Which relations a request read: the other half of unused-eager-load detection.

Reading a relation that select_related/prefetch_related already loaded runs no SQL, so only the
relation descriptors see it. Their `__get__` is wrapped the first time a capture starts and stays
wrapped: patching classes per request would invalidate CPython's type caches on every request and
race between threads. Outside a capture the wrapper costs one ContextVar read.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from perftoolkit.middleware.capture import context

_lock = threading.Lock()
# Django's own reads (prefetching sets caches through the descriptors) are not the code's reads.
_ORM_DIR = os.path.join("django", "db", "models", "")


def _descriptor_classes() -> list[type]:
    from django.apps import apps
    from django.db.models.fields import related_descriptors as rd

    classes: list[type] = [
        rd.ForwardManyToOneDescriptor,
        rd.ReverseOneToOneDescriptor,
        rd.ReverseManyToOneDescriptor,
    ]
    # Importing contenttypes' fields defines its model, which fails when the app is not installed.
    if apps.is_installed("django.contrib.contenttypes"):
        from django.contrib.contenttypes.fields import GenericForeignKey

        classes.append(GenericForeignKey)
    return classes


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    def __get__(self: Any, instance: Any, cls: Any = None) -> Any:
        if instance is not None:
            captures = context.current.get()
            if captures and _ORM_DIR not in sys._getframe(1).f_code.co_filename:
                for capture in captures:
                    if capture.access is not None:
                        capture.access.seen.add((type(instance), self))
        return original(self, instance, cls)

    __get__.__wrapped__ = original  # type: ignore[attr-defined]
    return __get__


_installed = False


def install_access_tracking() -> None:
    """Wrap the relation descriptors (once per process)."""
    global _installed
    if _installed:
        return
    with _lock:
        if not _installed:
            for klass in _descriptor_classes():
                klass.__get__ = _wrap(klass.__dict__["__get__"])  # type: ignore[attr-defined]
            _installed = True


_watched: set[Any] = set()


def _instance_created(sender: Any, **kwargs: Any) -> None:
    for capture in context.current.get():
        if capture.access is not None:
            capture.access.loaded.add(sender)


class AccessTracker:
    def __init__(self) -> None:
        self.seen: set[tuple[Any, Any]] = set()
        self.loaded: set[Any] = set()

    def watch(self, model: Any) -> None:
        """Note when rows of `model` are built, so an eager load on an empty result is not "unused".

        The post_init receiver is connected once per model, the first time a queryset on it asks
        for an eager load, and returns at once when no capture is active.
        """
        if model not in _watched:
            from django.db.models.signals import post_init

            with _lock:
                if model not in _watched:
                    post_init.connect(_instance_created, sender=model, weak=False)
                    _watched.add(model)

    def loaded_models(self) -> frozenset[str]:
        return frozenset(model._meta.label for model in self.loaded)

    def accessed(self) -> frozenset[tuple[str, str]]:
        """(app_label.Model, attribute) for every relation read."""
        out = set()
        for model, descriptor in self.seen:
            name = _attribute_name(model, id(descriptor))
            if name:
                out.add((model._meta.label, name))
        return frozenset(out)


@lru_cache(maxsize=4096)
def _attribute_name(model: Any, descriptor_id: int) -> str | None:
    for klass in model.__mro__:
        for name, value in vars(klass).items():
            if id(value) == descriptor_id:
                return str(name)
    return None

"""Which relations a request read: the other half of unused-eager-load detection.

Reading a relation that select_related/prefetch_related already loaded runs no SQL, so only the
relation descriptors see it. Their `__get__` is wrapped the first time a capture starts and stays
wrapped: patching classes per request would invalidate CPython's type caches on every request and
race between threads. Outside a capture the wrapper costs one ContextVar read; inside one that
has run no eager load yet, one attribute read more (only reads after an eager load can be reads
of what it loaded).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable
from contextlib import suppress
from functools import lru_cache
from typing import Any

from perftoolkit.middleware.capture import context
from perftoolkit.middleware.capture.failures import failed

logger = logging.getLogger("perftoolkit")
_lock = threading.Lock()
# Django's own reads (prefetching sets caches through the descriptors) are not the code's reads.
_ORM_DIR = os.path.join("django", "db", "models", "")


def _descriptor_classes() -> list[type]:
    """The classes whose instances sit on model classes as relation accessors.

    Subclasses are covered through their base: ForwardOneToOneDescriptor through
    ForwardManyToOneDescriptor, ManyToManyDescriptor through ReverseManyToOneDescriptor.
    """
    from django.apps import apps
    from django.db.models.fields import related_descriptors as rd

    classes: list[type] = [
        rd.ForwardManyToOneDescriptor,
        rd.ReverseOneToOneDescriptor,
        rd.ReverseManyToOneDescriptor,
    ]
    # Importing contenttypes' fields defines its model, which fails when the app is not installed.
    if apps.is_installed("django.contrib.contenttypes"):
        from django.contrib.contenttypes import fields as generic

        # Up to Django 6.0 a GenericForeignKey is its own descriptor; since 6.1 it puts a
        # GenericForeignKeyDescriptor on the model instead (Django ticket #28586, fetch modes).
        descriptor = getattr(generic, "GenericForeignKeyDescriptor", None)
        classes.append(descriptor if isinstance(descriptor, type) else generic.GenericForeignKey)
    return classes


def _getter_of(klass: type) -> Callable[..., Any] | None:
    """The `__get__` instances of `klass` run, wherever in its MRO it is defined (None: none)."""
    for base in klass.__mro__:
        if base is object:
            break
        found = base.__dict__.get("__get__")
        if found is not None:
            return found  # type: ignore[no-any-return]
    return None


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def __get__(self: Any, instance: Any, cls: Any = None) -> Any:
        if instance is not None:
            captures = context.current.get()
            try:
                for capture in captures:
                    # A capture notes reads once a query asked for an eager load (its tracker is
                    # made then): reads before one cannot be reads of what it loads.
                    access = capture._access
                    if access is not None and _ORM_DIR not in sys._getframe(1).f_code.co_filename:
                        access.seen.add((type(instance), self))
            except Exception:
                failed("access", captures)
        return original(self, instance, cls)

    __get__._perftoolkit_tracked = True  # type: ignore[attr-defined]
    return __get__


def _field_descriptor_classes() -> list[type]:
    """The relation fields of other libraries that sit on their model as their own descriptor
    (django-taggit's TaggableManager: `post.tags` is the field's `__get__`, which hands out a
    manager bound to the row). Django's own relation fields put a descriptor of theirs instead."""
    from django.apps import apps

    classes: list[type] = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            klass = type(field)
            if (
                getattr(field, "is_relation", False)
                and klass not in classes
                and not klass.__module__.startswith("django.")
                and model.__dict__.get(getattr(field, "name", "")) is field
                and _getter_of(klass) is not None
            ):
                classes.append(klass)
    return classes


def _wrap_field(original: Callable[..., Any]) -> Callable[..., Any]:
    """A library relation field's `__get__`: its read is noted as any relation read is, and the
    manager it hands out marks the querysets it makes with the row and the attribute, so a query
    it runs later (in a template, a serializer) is known as that row's relation."""

    @functools.wraps(original)
    def __get__(self: Any, instance: Any, cls: Any = None) -> Any:
        result = original(self, instance, cls)
        if instance is not None:
            captures = context.current.get()
            if captures:
                try:
                    for capture in captures:
                        access = capture._access
                        if (
                            access is not None
                            and _ORM_DIR not in sys._getframe(1).f_code.co_filename
                        ):
                            access.seen.add((type(instance), self))
                    _mark_manager(result, instance, str(self.name))
                except Exception:
                    failed("access", captures)
        return result

    __get__._perftoolkit_tracked = True  # type: ignore[attr-defined]
    return __get__


OWNER_ATTRIBUTE = "_perftoolkit_owner"


def _mark_manager(manager: Any, instance: Any, name: str) -> None:
    """Make `manager`'s querysets carry (row, attribute): only a manager bound to this row that
    can be prefetched (`prefetch_related(name)` is then the fix), made for this read alone."""
    if getattr(manager, "instance", None) is not instance or not (
        hasattr(manager, "get_prefetch_querysets") or hasattr(manager, "get_prefetch_queryset")
    ):
        return
    make = manager.get_queryset

    def get_queryset(*args: Any, **kwargs: Any) -> Any:
        queryset = make(*args, **kwargs)
        with suppress(Exception):  # a queryset that takes no attribute stays unmarked
            setattr(queryset, OWNER_ATTRIBUTE, (instance, name))
        return queryset

    manager.get_queryset = get_queryset


class _WatchedCache(dict):  # type: ignore[type-arg]
    """A row's `_prefetched_objects_cache` once a prefetch filled it: code that reads what a
    prefetch loaded straight from the cache (`obj._prefetched_objects_cache.get("versions")`, as
    some serializers do to avoid the manager) reads the relation as surely as `obj.versions.all()`
    does, and is noted as its descriptor's read is. The same dict for everything else; it pickles
    and copies as a plain dict, so nothing of perftoolkit is kept with a cached row."""

    __slots__ = ("_owner",)
    _owner: type

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))

    def get(self, key: Any, default: Any = None) -> Any:
        _read_from_cache(self._owner, key)
        return dict.get(self, key, default)

    def __getitem__(self, key: Any) -> Any:
        _read_from_cache(self._owner, key)
        return dict.__getitem__(self, key)

    def __contains__(self, key: Any) -> bool:
        _read_from_cache(self._owner, key)
        return dict.__contains__(self, key)


def _read_from_cache(owner: type, key: Any) -> None:
    # Django's own reads (the descriptors, which note theirs; prefetching checking what is done)
    # are not the code's.
    if _ORM_DIR in sys._getframe(2).f_code.co_filename:
        return
    captures = context.current.get()
    try:
        for capture in captures:
            access = capture._access
            if access is not None and isinstance(key, str):
                descriptor = _descriptor_named(owner, key)
                if descriptor is not None:
                    access.seen.add((owner, descriptor))
    except Exception:
        failed("access", captures)


@lru_cache(maxsize=1024)
def _descriptor_named(owner: type, name: str) -> Any:
    """The relation descriptor `name` of `owner` (the prefetch cache's key is the accessor's
    name), or None."""
    for klass in owner.__mro__:
        value = vars(klass).get(name)
        if value is not None:
            return value if hasattr(type(value), "__get__") else None
    return None


def _wrap_prefetch(original: Callable[..., Any]) -> Callable[..., Any]:
    """`prefetch_related_objects`, then each row's filled cache made a `_WatchedCache`: only in a
    capture that notes reads (one whose queries asked for an eager load)."""

    @functools.wraps(original)
    def prefetch_related_objects(model_instances: Any, *related_lookups: Any) -> Any:
        result = original(model_instances, *related_lookups)
        captures = context.current.get()
        if captures and any(c._access is not None for c in captures):
            try:
                for instance in model_instances:
                    state: dict[str, Any] | None = getattr(instance, "__dict__", None)
                    cache = state.get("_prefetched_objects_cache") if state else None
                    if state is not None and type(cache) is dict and cache:
                        watched = _WatchedCache(cache)
                        watched._owner = type(instance)
                        state["_prefetched_objects_cache"] = watched
            except Exception:
                failed("access", captures)
        return result

    prefetch_related_objects._perftoolkit_tracked = True  # type: ignore[attr-defined]
    return prefetch_related_objects


def _track_prefetch_cache() -> None:
    """Wrap Django's prefetch_related_objects where QuerySet calls it and where projects import
    it from."""
    import django.db.models as models
    from django.db.models import query

    original = query.prefetch_related_objects
    if getattr(original, "_perftoolkit_tracked", False):
        return
    wrapped = _wrap_prefetch(original)
    query.prefetch_related_objects = wrapped
    if models.prefetch_related_objects is original:
        models.prefetch_related_objects = wrapped


_installed = False
# What could not be wrapped when tracking was installed, in a sentence each.
unavailable: list[str] = []


def tracking_problems() -> list[str]:
    """Why reads of some relations cannot be tracked on this Django: the failures of an install
    that ran, or, before one, what an install would meet (nothing is wrapped by asking)."""
    if _installed:
        return list(unavailable)
    try:
        classes = _descriptor_classes()
    except Exception as exc:
        return [_no_classes(exc)]
    return [_no_getter(klass) for klass in classes if _getter_of(klass) is None]


def _no_classes(exc: Exception) -> str:
    return (
        f"relation reads cannot be tracked ({type(exc).__name__}: {exc}); unused eager loads "
        "are not reported"
    )


def _no_getter(klass: type) -> str:
    return (
        f"reads through {klass.__qualname__} cannot be tracked (it defines no __get__); eager "
        "loads through it may be reported unused"
    )


def install_access_tracking() -> None:
    """Wrap the relation descriptors' `__get__` (once per process).

    The getter is looked up through the MRO, not in the class's own `__dict__`, and the wrapper is
    set on the listed class, so subclasses that do not define their own `__get__` (the many-to-many
    descriptor) run it too. A class that cannot be wrapped is logged and skipped: one relation kind
    untracked, never the whole capture.
    """
    global _installed
    if _installed:
        return
    with _lock:
        if not _installed:
            try:
                classes = _descriptor_classes()
            except Exception as exc:  # a descriptor class moved or was renamed
                classes = []
                unavailable.append(_no_classes(exc))
            try:
                fields = _field_descriptor_classes()
            except Exception:  # models that cannot be listed: their library fields go untracked
                logger.debug("perftoolkit: library relation fields not listed", exc_info=True)
                fields = []
            for klass in [*classes, *fields]:
                try:
                    _track(klass, _wrap_field if klass in fields else _wrap)
                except Exception:
                    unavailable.append(_no_getter(klass))
                    logger.warning(
                        "perftoolkit: cannot track reads of %s.%s; eager loads through it may "
                        "be reported unused",
                        klass.__module__,
                        klass.__qualname__,
                        exc_info=True,
                    )
            try:
                _track_prefetch_cache()
            except Exception:  # prefetch_related_objects moved: its cache's reads go unnoted
                logger.debug("perftoolkit: prefetch cache reads not tracked", exc_info=True)
            _installed = True


def _track(
    klass: type, wrap: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None
) -> None:
    original = _getter_of(klass)
    if original is None:
        raise TypeError(f"{klass.__qualname__} defines no __get__")
    if getattr(original, "_perftoolkit_tracked", False):
        return  # already wrapped (on this class or a base)
    klass.__get__ = (wrap or _wrap)(original)  # type: ignore[attr-defined]


_watched: set[Any] = set()


def _instance_created(sender: Any, **kwargs: Any) -> None:
    captures = context.current.get()
    try:
        for capture in captures:
            access = capture._access  # made by the capture's first eager load, as for reads
            if access is not None:
                access.loaded.add(sender)
                # Rows are built after their statement ran: the last one recorded built them.
                access.built(kwargs.get("instance"), len(capture.queries) - 1)
    except Exception:
        failed("access", captures)


class AccessTracker:
    __slots__ = ("_built", "loaded", "seen")

    def __init__(self) -> None:
        self.seen: set[tuple[Any, Any]] = set()
        self.loaded: set[Any] = set()
        # id(instance) → (the instance, weakly; the index of the query whose rows built it), for
        # the models watched (those an eager load starts from or passes through).
        self._built: dict[int, tuple[weakref.ref[Any], int]] = {}

    def built(self, instance: Any, index: int) -> None:
        if type(instance).__weakrefoffset__:  # without weak references its origin stays unknown
            self._built[id(instance)] = (weakref.ref(instance), index)

    def built_by(self, instance: Any) -> int:
        """The index of the query whose rows built `instance`; -1 when no watched query did
        (every row an eager load builds is of a watched model, so -1 means no eager load did)."""
        entry = self._built.get(id(instance))
        if entry is None or entry[0]() is not instance:
            return -1
        return entry[1]

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
        """(app_label.Model, attribute) for every relation read; a relation a model inherits is
        read on its parents too (multi-table inheritance, a proxy: django-polymorphic queries the
        base model's rows, eager loads included, and hands out the children)."""
        out: set[tuple[str, str]] = set()
        for model, descriptor in self.seen:
            name = _attribute_name(model, id(descriptor))
            if name:
                out.update((label, name) for label in _labels(model))
        return frozenset(out)


@lru_cache(maxsize=1024)
def _labels(model: Any) -> tuple[str, ...]:
    """The model's label, then those of the models it inherits from (parents, the concrete model of
    a proxy)."""
    meta = model._meta
    related = [*meta.get_parent_list(), meta.concrete_model]
    return tuple(dict.fromkeys([meta.label, *(m._meta.label for m in related if m is not None)]))


@lru_cache(maxsize=4096)
def _attribute_name(model: Any, descriptor_id: int) -> str | None:
    for klass in model.__mro__:
        for name, value in vars(klass).items():
            if id(value) == descriptor_id:
                return str(name)
    return None

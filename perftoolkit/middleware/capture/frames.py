"""Walking the Python stack of a query: where in the project it came from, and through which
ORM, template and serializer frames.

The walk is on the per-query path, so it is built to be cheap: frames are classified by file name
(one dict lookup per frame; code objects hash slowly, strings cache their hash), it stops at the
first project frame (or at Django's view boundary) and it reads no frame locals. What the
interesting frames hold is read later, and only when needed (see `attribution.py`).
"""

from __future__ import annotations

import importlib.util
import linecache
import logging
import os
import site
import sys
import sysconfig
import traceback
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from types import FrameType
from typing import NamedTuple

from perftoolkit.conf import get_settings, on_settings_reset, project_root, settings_cache
from perftoolkit.core.events import CallSite


class Kind(IntEnum):
    LIBRARY = 0
    PROJECT = 1
    QUERYSET = 2  # django/db/models/query.py
    DESCRIPTOR = 3  # django/db/models/fields/related_descriptors.py
    MANAGER = 4  # django/db/models/manager.py
    GENERIC = 5  # django/contrib/contenttypes/fields.py
    TEMPLATE = 6  # django/template/base.py
    SERIALIZER = 7  # rest_framework/serializers.py
    HANDLER = 8  # django/core/handlers/base.py: the view boundary
    ORM = 9  # the rest of django/db/: the ORM's own machinery, never a hand-off


_SPECIAL_SUFFIXES: tuple[tuple[str, Kind], ...] = (
    (os.path.join("django", "db", "models", "query.py"), Kind.QUERYSET),
    (os.path.join("django", "db", "models", "fields", "related_descriptors.py"), Kind.DESCRIPTOR),
    (os.path.join("django", "db", "models", "manager.py"), Kind.MANAGER),
    (os.path.join("django", "contrib", "contenttypes", "fields.py"), Kind.GENERIC),
    (os.path.join("django", "template", "base.py"), Kind.TEMPLATE),
    (os.path.join("rest_framework", "serializers.py"), Kind.SERIALIZER),
    (os.path.join("django", "core", "handlers", "base.py"), Kind.HANDLER),
)
_ORM_DIR = os.path.join("", "django", "db", "")
_PREFETCH_FUNCTIONS = frozenset({"prefetch_related_objects", "prefetch_one_level"})
# Since Django 6.1 a descriptor's `__get__` hands the load to `fetch_one` (or `fetch_many`, under
# FETCH_PEERS, which prefetches) through the instance's fetch mode: still the descriptor's read.
_DESCRIPTOR_GETTERS = frozenset({"__get__", "get_object", "fetch_one", "fetch_many"})
MAX_DEPTH = 250


logger = logging.getLogger("perftoolkit")


class _Library(NamedTuple):
    """Where code that is not the project's lives: directories (with a trailing separator, so
    `/app/lib` does not claim `/app/library.py`) and single-file modules."""

    dirs: tuple[str, ...]
    files: frozenset[str]


_INSTALLED_DIRS = frozenset({"site-packages", "dist-packages"})


@settings_cache()
def _library() -> _Library:
    dirs: set[str] = set()
    files: set[str] = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if key in paths:
            dirs.add(paths[key])
    dirs.update(site.getsitepackages())
    dirs.add(site.getusersitepackages())
    for module_name in ("django", "rest_framework", "perftoolkit", "asgiref"):
        module = sys.modules.get(module_name)
        if module is not None and getattr(module, "__file__", None):
            dirs.add(os.path.dirname(str(module.__file__)))
    for name in get_settings().ignore_modules:
        origin, package = _module_location(name)
        if origin is None:
            continue
        if package:
            dirs.add(os.path.dirname(origin))
        else:
            files.add(os.path.realpath(origin))
    return _Library(
        dirs=tuple(sorted(os.path.join(os.path.realpath(d), "") for d in dirs if d)),
        files=frozenset(files),
    )


def _module_location(name: str) -> tuple[str | None, bool]:
    """A module's file and whether it is a package, found without importing it (only the
    packages above it are imported)."""
    module = sys.modules.get(name)
    if module is not None:
        file = getattr(module, "__file__", None)
        return (str(file), hasattr(module, "__path__")) if file else (None, False)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        logger.warning(
            "perftoolkit: IGNORE_MODULES names %r, which cannot be found (%s)", name, exc
        )
        return None, False
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return None, False
    return spec.origin, spec.submodule_search_locations is not None


_kinds: dict[str, Kind] = {}
on_settings_reset(_kinds.clear)


def classify(filename: str) -> Kind:
    """The kind of a frame, by its code's file name (memoised)."""
    kind = _kinds.get(filename)
    if kind is None:
        kind = _classify(filename)
        _kinds[filename] = kind
    return kind


def _classify(filename: str) -> Kind:
    if not filename or filename.startswith("<"):
        return Kind.LIBRARY
    for suffix, kind in _SPECIAL_SUFFIXES:
        if filename.endswith(suffix):
            return kind
    if _ORM_DIR in filename:
        return Kind.ORM
    real = os.path.realpath(filename)
    library = _library()
    if _INSTALLED_DIRS & set(Path(real).parts):  # installed, whatever interpreter owns it
        return Kind.LIBRARY
    if real in library.files or any(real.startswith(root) for root in library.dirs):
        return Kind.LIBRARY
    return Kind.PROJECT


@settings_cache()
def relative_path(filename: str) -> str:
    """A project file's path relative to the project root; never absolute."""
    real = os.path.realpath(filename)
    root = str(project_root())
    try:
        rel = os.path.relpath(real, root)
    except ValueError:  # another drive on Windows
        return Path(real).name
    return rel.replace(os.sep, "/")


def library_path(filename: str) -> str:
    """A library file's path from the directory it is installed in (`django/middleware/csrf.py`),
    as an import names it; a file of no known library directory, relative to the project."""
    real = os.path.realpath(filename)
    parts = Path(real).parts
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] in _INSTALLED_DIRS:
            return "/".join(parts[i + 1 :])
    roots = [root for root in _library().dirs if real.startswith(root)]
    if roots:
        return real[len(max(roots, key=len)) :].replace(os.sep, "/")
    return relative_path(filename)


def callsite_of(frame: FrameType) -> CallSite:
    code = frame.f_code
    name = code.co_name
    if name.startswith("<"):  # a comprehension or lambda: name the function it is written in
        outer = frame.f_back
        while outer is not None and outer.f_code.co_filename == code.co_filename:
            if not outer.f_code.co_name.startswith("<"):
                name = outer.f_code.co_name
                break
            outer = outer.f_back
    return CallSite(relative_path(code.co_filename), frame.f_lineno, name)


@dataclass(slots=True)
class Walk:
    """The frames of interest between a query and the project code that caused it."""

    project: FrameType | None = None
    queryset: FrameType | None = None
    descriptor: FrameType | None = None
    manager: FrameType | None = None
    generic: FrameType | None = None
    template: FrameType | None = None
    serializer: FrameType | None = None
    prefetch: FrameType | None = None
    # The project frame above a template that renders it (the view's render call).
    render: FrameType | None = None
    # How many frames out from the start `project` was (-1: not found): repeats of the same
    # statement from the same line jump straight there with sys._getframe.
    depth: int = -1
    # The project line handed the queryset to library code that evaluated it (a paginator, a
    # generic view, a serializer): that line did not build it.
    handed_off: bool = False
    # With no project frame: the first library frame out from the start (the library line that
    # ran the statement, a session store's load) and the handler frame the walk stopped at, each
    # with its depth, so that a later run from the same library line can be recognised.
    library: FrameType | None = None
    library_depth: int = -1
    stop: FrameType | None = None
    stop_depth: int = -1


def walk(frame: FrameType | None, *, deep: bool = False) -> Walk:
    """Walk outwards from `frame` to the first project frame.

    With `deep`, keep going a little past it to notice a template that called project code
    (a model method used in `{{ }}`), and then to the project frame that rendered it.
    """
    found = Walk()
    depth = 0
    kinds = _kinds
    while frame is not None and depth < MAX_DEPTH:
        code = frame.f_code
        kind = kinds.get(code.co_filename)
        if kind is None:
            kind = classify(code.co_filename)
        if kind is Kind.PROJECT and _passes_on(frame):
            # the project's middleware handing the request on: outside the view, as Django's
            # handler is (DRF's authentication loading the user is not that line's query)
            found.stop, found.stop_depth = frame, depth
            break
        if kind is Kind.PROJECT:
            found.project = frame
            found.depth = depth
            if found.template is not None:
                found.render = frame
            elif deep:
                peek_for_template(frame.f_back, found)
            break
        if kind is Kind.HANDLER:
            # outside the view: middleware and test frames are not the view's callsite
            found.stop, found.stop_depth = frame, depth
            break
        if kind is Kind.LIBRARY or kind is Kind.SERIALIZER:
            if found.queryset is not None:
                found.handed_off = True
            if found.library is None and kind is Kind.LIBRARY:
                found.library, found.library_depth = frame, depth
            if kind is Kind.SERIALIZER:
                _note(frame, kind, found)
        elif kind is not Kind.ORM:
            _note(frame, kind, found)
        frame = frame.f_back
        depth += 1
    return found


_MIDDLEWARE_CALLS = frozenset({"__call__", "__acall__"})
_passing: dict[tuple[object, int], bool] = {}


def _passes_on(frame: FrameType) -> bool:
    """Whether `frame` is a middleware's `__call__` at its `self.get_response(request)` line: the
    rest of the request runs inside that line, which is no query's cause."""
    code = frame.f_code
    if code.co_name not in _MIDDLEWARE_CALLS or "get_response" not in code.co_names:
        return False
    key = (code, frame.f_lineno)
    known = _passing.get(key)
    if known is None:
        known = "get_response(" in linecache.getline(code.co_filename, frame.f_lineno)
        if len(_passing) >= 4096:
            _passing.clear()
        _passing[key] = known
    return known


def _note(frame: FrameType, kind: Kind, found: Walk) -> None:
    name = frame.f_code.co_name
    if kind is Kind.QUERYSET:
        if name in _PREFETCH_FUNCTIONS:
            found.prefetch = frame
        elif found.queryset is None:
            found.queryset = frame
    elif kind is Kind.DESCRIPTOR:
        if name in _DESCRIPTOR_GETTERS:
            if found.descriptor is None:
                found.descriptor = frame
        elif found.manager is None:
            found.manager = frame
    elif kind is Kind.MANAGER:
        if found.manager is None and name == "manager_method":
            found.manager = frame
    elif kind is Kind.GENERIC:
        if found.generic is None:
            found.generic = frame
    elif kind is Kind.TEMPLATE:
        if found.template is None and name == "render_annotated" and project_template(frame):
            found.template = frame
    elif (
        kind is Kind.SERIALIZER
        and found.serializer is None
        and name == "to_representation"
        and "field" in frame.f_code.co_varnames
    ):
        found.serializer = frame


_CONTAINER_NODES = frozenset({"ExtendsNode", "BlockNode"})


def project_template(frame: FrameType) -> bool:
    """Whether the node a `render_annotated` frame renders is in one of the project's templates:
    an installed app's template (site-packages, Django's own) is skipped like its Python frames,
    so the line named is the project template that includes it, or the project code. A project
    template's `{% extends %}` or `{% block %}` is skipped too: it is the innermost project node
    only when what runs is all another template's (the installed parent an extends renders, the
    installed child's override a block renders: the admin's change list inside a project's
    `admin/base.html`), and holds nothing to change."""
    node = frame.f_locals.get("self")
    name = getattr(getattr(node, "origin", None), "name", None)
    if type(node).__name__ in _CONTAINER_NODES:
        return False
    if not isinstance(name, str) or name.startswith("<"):
        return True  # a template from a string: the project's own
    return classify(name) is Kind.PROJECT


def peek_for_template(frame: FrameType | None, found: Walk, budget: int = 30) -> None:
    """Project code called from a template: the template line is the callsite, the view renders."""
    while frame is not None and budget > 0:
        kind = classify(frame.f_code.co_filename)
        if kind is Kind.HANDLER:
            return
        if found.template is None:
            if (
                kind is Kind.TEMPLATE
                and frame.f_code.co_name == "render_annotated"
                and project_template(frame)
            ):
                found.template = frame
            elif kind is Kind.PROJECT:
                budget = min(budget, 10)
            budget -= 1
        elif kind is Kind.PROJECT:
            found.render = frame
            return
        frame = frame.f_back


def raised_at(exc: BaseException) -> str:
    """`Type: message at file:line`, the innermost frame of the project (or the last one), in one
    short line."""
    frames = [(f.filename, f.lineno) for f in traceback.extract_tb(exc.__traceback__)]
    project = [f for f in frames if classify(f[0]) is Kind.PROJECT]
    name, line = (project or frames or [("", 0)])[-1]
    where = f"{os.path.relpath(name)}:{line}" if name else ""
    message = " ".join(str(exc).split())
    if len(message) > 120:
        message = message[:119] + "…"
    return f"{type(exc).__name__}: {message}" + (f" at {where}" if where else "")

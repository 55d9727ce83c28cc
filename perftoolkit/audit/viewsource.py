"""What a view's own source says about its URL parameters: which model a function view looks a
parameter up in (`get_object_or_404(Plan, pk=id)`, `Plan.objects.get(id=id)`), and which
parameters a view never reads (an SEO slug after the id, the id a page's script reads in the
browser), so any value of the converter's type serves it.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db.models import Model

_GETTERS = ("get_object_or_404", "get_list_or_404")
_MANAGER_CALLS = ("get", "filter", "exclude", "get_or_create")
_MANAGERS = ("objects", "_default_manager")


@lru_cache(maxsize=1024)
def _function(callback: Callable[..., Any]) -> tuple[ast.FunctionDef | None, dict[str, Any]]:
    function = _view_function(callback)
    if function is None:
        return None, {}
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None, {}
    node = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
    return node, function.__globals__


def _view_function(callback: Callable[..., Any], depth: int = 0) -> Any:
    """The view's own function under its decorators: through `__wrapped__` (functools.wraps),
    else, for a wrapper taking `*args, **kwargs`, through the function its closure holds (a
    decorator written without functools.wraps, like `@lecturer_required`)."""
    function = inspect.unwrap(callback)
    if not inspect.isfunction(function) or depth > 5:
        return None
    code = function.__code__
    wraps_another = code.co_flags & inspect.CO_VARARGS and code.co_flags & inspect.CO_VARKEYWORDS
    if not wraps_another or not function.__closure__:
        return function
    for cell in function.__closure__:
        try:
            inner = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if inspect.isfunction(inner) and inner is not function:
            found = _view_function(inner, depth + 1)
            if found is not None and found.__code__.co_varnames[:1] == ("request",):
                return found
    return function


@dataclass(frozen=True)
class Lookup:
    """How a function view finds a row by a URL parameter: `get_object_or_404(User, pk=pk,
    is_student=True)` is (User, "pk", {"is_student": True})."""

    model: type[Model]
    column: str
    filters: dict[str, Any] = field(default_factory=dict)  # the literal conditions beside it


def function_lookups(callback: Callable[..., Any]) -> dict[str, Lookup]:
    """{parameter: Lookup} for each parameter a function view looks a row up by."""
    node, names = _function(callback)
    if node is None:
        return {}
    params = {a.arg for a in node.args.args}
    found: dict[str, Lookup] = {}
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        model = _looked_up_model(call, names)
        if model is None:
            continue
        filters = {
            k.arg: k.value.value
            for k in call.keywords
            if k.arg and isinstance(k.value, ast.Constant)
        }
        for keyword in call.keywords:
            value = keyword.value
            if keyword.arg and isinstance(value, ast.Name) and value.id in params:
                column = "pk" if keyword.arg in ("pk", "id") else keyword.arg
                found.setdefault(value.id, Lookup(model, column, filters))
    return found


def unused_parameters(callback: Callable[..., Any], params: tuple[str, ...] = ()) -> set[str]:
    """The parameters a view never reads: a function view's that its body never names (none when
    it takes **kwargs); a class-based view's when it looks nothing up (no model, no queryset)
    and its own classes neither read `kwargs` nor name the parameter."""
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        return _unused_by_class(view_class, params)
    node, _ = _function(callback)
    if node is None or node.args.kwarg is not None:
        return set()
    taken = {a.arg for a in node.args.args[1:]}  # the first is the request
    read = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return taken - read


def _looked_up_model(call: ast.Call, names: dict[str, Any]) -> type[Model] | None:
    func = call.func
    target: ast.expr | None = None
    if isinstance(func, ast.Name) and func.id in _GETTERS and call.args:
        target = call.args[0]
    elif (
        isinstance(func, ast.Attribute)
        and func.attr in _MANAGER_CALLS
        and isinstance(func.value, ast.Attribute)
        and func.value.attr in _MANAGERS
    ):
        target = func.value.value
    if target is None:
        return None
    value = _resolve(target, names)
    if isinstance(value, type) and issubclass(value, Model):
        return value
    model = getattr(value, "model", None)  # a queryset or a manager passed to get_object_or_404
    return model if isinstance(model, type) and issubclass(model, Model) else None


def _resolve(node: ast.expr, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(node.value, names), node.attr, None)
    return None


_LOOKUP_BASES = frozenset(
    {"SingleObjectMixin", "MultipleObjectMixin", "GenericAPIView", "BaseDetailView", "FormMixin"}
)


@lru_cache(maxsize=512)
def _unused_by_class(view_class: type, params: tuple[str, ...]) -> set[str]:
    if any(k.__name__ in _LOOKUP_BASES for k in view_class.__mro__):
        return set()
    unused = set(params)
    for klass in view_class.__mro__:
        # Django's and DRF's own bases read no URL parameter but through the lookups above; every
        # other class (the project's, a library's like django-allauth's) is read.
        if klass is object or klass.__module__.startswith(("django.", "rest_framework.")):
            continue
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            return set()
        if "kwargs[" in source or "kwargs.get(" in source or "kwargs.pop(" in source:
            return set()
        unused = {p for p in unused if f"'{p}'" not in source and f'"{p}"' not in source}
    return unused


_METHODS = ("get_object", "get_queryset", "get", "dispatch", "get_context_data", "setup")


@lru_cache(maxsize=512)
def class_lookups(view_class: type, view_model: Any) -> dict[str, Lookup]:
    """{parameter: Lookup} for each URL parameter a class-based view's own methods look a row up
    by: `get_object_or_404(Order, number=self.kwargs["order_number"])`, or a `.get()` /
    `.filter()` on its own queryset (`self.get_queryset().get(key=self.kwargs["key"])`)."""
    found: dict[str, Lookup] = {}
    for klass in view_class.__mro__:
        if klass is object or klass.__module__.startswith(("django.", "rest_framework.")):
            continue
        for name in _METHODS:
            method = vars(klass).get(name)
            if method is None or not inspect.isfunction(method):
                continue
            try:
                tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
            except (OSError, TypeError, SyntaxError):
                continue
            for call in ast.walk(tree):
                if isinstance(call, ast.Call):
                    _class_call(call, method.__globals__, view_model, found)
    return found


def _class_call(
    call: ast.Call, names: dict[str, Any], view_model: Any, found: dict[str, Lookup]
) -> None:
    model = _looked_up_model(call, names)
    if (
        model is None
        and isinstance(call.func, ast.Attribute)
        and call.func.attr in ("get", "filter")
    ):
        model = view_model  # a .get()/.filter() on the view's own queryset
    if model is None:
        return
    filters = {
        k.arg: k.value.value for k in call.keywords if k.arg and isinstance(k.value, ast.Constant)
    }
    for keyword in call.keywords:
        param = _kwargs_key(keyword.value)
        if keyword.arg and param is not None:
            column = "pk" if keyword.arg in ("pk", "id") else keyword.arg
            found.setdefault(param, Lookup(model, column, filters))


def _kwargs_key(node: ast.expr) -> str | None:
    """`self.kwargs["x"]`, `self.kwargs.get("x")` or `kwargs["x"]` → "x"."""
    if isinstance(node, ast.Subscript) and _is_kwargs(node.value):
        key = node.slice
        return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and _is_kwargs(node.func.value)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _is_kwargs(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "kwargs"
    return isinstance(node, ast.Attribute) and node.attr == "kwargs"

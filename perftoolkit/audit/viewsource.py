"""What a view's own source says about its URL parameters: which model a function view looks a
parameter up in (`get_object_or_404(Plan, pk=id)`, `Plan.objects.get(id=id)`), and which
parameters a view never reads (an SEO slug after the id, the id a page's script reads in the
browser), so any value of the converter's type serves it.
"""

from __future__ import annotations

import ast
import inspect
import logging
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db.models import Model

logger = logging.getLogger("perftoolkit")
_GETTERS = ("get_object_or_404", "get_list_or_404")
_MANAGER_CALLS = ("get", "filter", "exclude", "get_or_create")
_MANAGERS = ("objects", "_default_manager")


def _function(callback: Callable[..., Any]) -> tuple[ast.FunctionDef | None, dict[str, Any]]:
    function = _view_function(callback)
    return (None, {}) if function is None else _parsed(function)


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
    # The URL parameters the same lookup takes (`Line` by `pk` and `wishlist__key`): their values
    # must come from one row.
    together: frozenset[str] = frozenset()


def function_lookups(callback: Callable[..., Any]) -> dict[str, Lookup]:
    """{parameter: Lookup} for each parameter a function view looks a row up by, in its own body
    or in the module functions it hands the parameter to (`_get_check_for_user(request, code)`,
    two calls deep), through a queryset kept in a variable (`q = Check.objects.select_related(…)`
    then `get_object_or_404(q, code=code)`)."""
    node, names = _function(callback)
    if node is None:
        return {}
    found: dict[str, Lookup] = {}
    _function_calls(node, names, {a.arg: a.arg for a in node.args.args}, found, 0)
    return found


def _function_calls(
    node: ast.FunctionDef,
    names: dict[str, Any],
    bound: dict[str, str],
    found: dict[str, Lookup],
    depth: int,
) -> None:
    """The lookups of one function whose names `bound` are URL parameters ({name: parameter})."""
    querysets = _local_querysets(node, names)
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        helper = _module_function(call, names)
        if helper is not None and depth < _FOLLOWED:
            inner, inner_names = _parsed(helper)
            arguments = _arguments(helper, call, bound, after=0)
            if inner is not None and arguments:
                _function_calls(inner, inner_names, arguments, found, depth + 1)
            continue
        model = _looked_up_model(call, names, querysets)
        if model is None:
            continue
        filters = {
            k.arg: k.value.value
            for k in call.keywords
            if k.arg and isinstance(k.value, ast.Constant)
        }
        for keyword in call.keywords:
            value = keyword.value
            if keyword.arg and isinstance(value, ast.Name) and value.id in bound:
                column = "pk" if keyword.arg in ("pk", "id") else keyword.arg
                found.setdefault(bound[value.id], Lookup(model, column, filters))


def _local_querysets(node: ast.FunctionDef, names: dict[str, Any]) -> dict[str, type[Model]]:
    """{variable: model} for the function's variables assigned querysets of one model
    (`q = Check.objects.select_related("project")`, `q = q.filter(…)`)."""
    out: dict[str, type[Model]] = {}
    for statement in ast.walk(node):
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            continue
        base = statement.value
        while isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute):
            base = base.func.value
        model: Any = None
        if isinstance(base, ast.Name) and base.id in out:
            model = out[base.id]
        elif isinstance(base, ast.Attribute) and base.attr in _MANAGERS:
            model = _resolve(base.value, names)
        name = statement.targets[0].id
        if isinstance(model, type) and issubclass(model, Model):
            if out.get(name, model) is model:
                out[name] = model
        else:
            out.pop(name, None)
    return out


def _module_function(call: ast.Call, names: dict[str, Any]) -> Any:
    """The project function a call names (`_get_check_for_user(...)`), not Django's or DRF's."""
    if not isinstance(call.func, ast.Name):
        return None
    function = names.get(call.func.id)
    if not inspect.isfunction(function):
        return None
    module = getattr(function, "__module__", "") or ""
    return None if module.startswith(("django.", "rest_framework.")) else function


@lru_cache(maxsize=1024)
def _parsed(function: Any) -> tuple[ast.FunctionDef | None, dict[str, Any]]:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError) as exc:  # no source to read: nothing to follow
        logger.debug("perftoolkit: the source of %r cannot be read (%s)", function, exc)
        return None, {}
    node = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
    return node, function.__globals__


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


def _looked_up_model(
    call: ast.Call, names: dict[str, Any], querysets: dict[str, type[Model]] | None = None
) -> type[Model] | None:
    func = call.func
    target: ast.expr | None = None
    if isinstance(func, ast.Name) and func.id in _GETTERS and call.args:
        target = call.args[0]
    elif isinstance(func, ast.Attribute) and func.attr in _MANAGER_CALLS:
        target = func.value
        # Through the queryset's other calls down to the manager or model they start from:
        # `Offer.active.select_related().get(...)`, `Plan.objects.filter(...).get(...)`.
        while isinstance(target, ast.Call) and isinstance(target.func, ast.Attribute):
            target = target.func.value
        if isinstance(target, ast.Attribute) and target.attr in _MANAGERS:
            target = target.value
    if target is None:
        return None
    if querysets and isinstance(target, ast.Name) and target.id in querysets:
        return querysets[target.id]
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
_FOLLOWED = 2  # how deep calls of the view's own methods (`self.get_category()`) are followed


@dataclass(frozen=True)
class ClassLookups:
    """What a class-based view's own methods look up: {parameter: Lookup}, and every model they
    look anything up in (`get_object_or_404(WishList, ...)`), parameters or not."""

    lookups: dict[str, Lookup]
    models: tuple[type[Model], ...]


def class_lookups(view_class: type, view_model: Any) -> dict[str, Lookup]:
    """{parameter: Lookup} for each URL parameter a class-based view's own methods look a row up
    by: `get_object_or_404(Order, number=self.kwargs["order_number"])`, or a `.get()` /
    `.filter()` on its own queryset (`self.get_queryset().get(key=self.kwargs["key"])`)."""
    return class_source(view_class, view_model).lookups


@lru_cache(maxsize=512)
def class_source(view_class: type, view_model: Any) -> ClassLookups:
    """The lookups of the view's methods (`get`, `get_object`, `dispatch`, ...) and of the
    methods of its own they call (`self.get_category()`, `self.fetch_line(user, kwargs["key"])`,
    two calls deep), a helper's arguments followed to its parameters. A row a method keeps
    (`self.product = get_object_or_404(Product, pk=self.kwargs["product_pk"])`) and a later
    lookup names (`.filter(product=self.product, pk=self.kwargs["pk"])`) ties both parameters to
    the later lookup's rows (`product__pk`, `pk`): they are looked up together."""
    calls: list[tuple[ast.Call, dict[str, Any], dict[str, str], bool]] = []
    kept: dict[str, tuple[str, str]] = {}  # self.<attribute> -> (parameter, column)
    visited: set[tuple[Any, tuple[tuple[str, str], ...]]] = set()

    def visit(function: Any, bindings: dict[str, str], depth: int) -> None:
        key = (function, tuple(sorted(bindings.items())))
        if key in visited:
            return
        visited.add(key)
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        except (OSError, TypeError, SyntaxError):
            return
        names = function.__globals__
        local = dict(bindings)
        for node in ast.walk(tree):  # `note_id = self.kwargs.get("note_id")`
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                param = _param(node.value, local)
                if isinstance(target, ast.Name) and param is not None:
                    local[target.id] = param
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if _is_self_attribute(target) and isinstance(node.value, ast.Call):
                    single = _single_lookup(node.value, names, local)
                    if single is not None:
                        kept.setdefault(target.attr, single)  # type: ignore[attr-defined]
            if not isinstance(node, ast.Call):
                continue
            calls.append((node, names, local, True))
            helper = _own_method(view_class, node)
            if helper is not None and depth < _FOLLOWED:
                visit(helper, _arguments(helper, node, local), depth + 1)

    for klass in _own_classes(view_class):
        for name in _METHODS:
            method = vars(klass).get(name)
            if method is not None and inspect.isfunction(method):
                visit(method, {}, 0)
    found: dict[str, Lookup] = {}
    models: list[type[Model]] = []
    for call, names, local, _ in calls:
        model = _class_call(call, names, view_model, found, local, kept)
        if model is not None and model not in models:
            models.append(model)
    return ClassLookups(found, tuple(models))


def _own_classes(view_class: type) -> list[type]:
    """The view's classes but Django's and DRF's own (they read no URL parameter but through
    the lookups of `SingleObjectMixin` / `GenericAPIView`)."""
    return [
        k
        for k in view_class.__mro__
        if k is not object and not k.__module__.startswith(("django.", "rest_framework."))
    ]


def _own_method(view_class: type, call: ast.Call) -> Any:
    """The function `self.<name>(...)` calls, when one of the view's own classes defines it."""
    func = call.func
    if not (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "self"
    ):
        return None
    for klass in _own_classes(view_class):
        method = vars(klass).get(func.attr)
        if method is not None:
            return method if inspect.isfunction(method) else None
    return None


def _arguments(
    function: Any, call: ast.Call, local: dict[str, str], after: int = 1
) -> dict[str, str]:
    """{the helper's parameter: URL parameter} for the arguments of `call` that are URL
    parameters (`self.fetch_line(user, kwargs["key"], line_pk=kwargs["line_pk"])`); `after`:
    the parameters the call does not pass (a method's self)."""
    try:
        names = list(inspect.signature(function).parameters)[after:]
    except (TypeError, ValueError):
        return {}
    bound: dict[str, str] = {}
    for position, argument in enumerate(call.args):
        if isinstance(argument, ast.Starred):
            break
        param = _param(argument, local)
        if param is not None and position < len(names):
            bound[names[position]] = param
    for keyword in call.keywords:
        param = _param(keyword.value, local)
        if keyword.arg and param is not None:
            bound[keyword.arg] = param
    return bound


def _param(node: ast.expr, local: dict[str, str]) -> str | None:
    """The URL parameter an expression is: `self.kwargs["x"]`, or a name bound to one."""
    if isinstance(node, ast.Name) and node.id in local:
        return local[node.id]
    return _kwargs_key(node)


def _is_self_attribute(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _single_lookup(
    call: ast.Call, names: dict[str, Any], local: dict[str, str]
) -> tuple[str, str] | None:
    """(parameter, column) of a lookup by one URL parameter (`get_object_or_404(Product,
    pk=self.kwargs["product_pk"])`), the row a method keeps on the view."""
    if _looked_up_model(call, names) is None:
        return None
    found = [(k.arg, _param(k.value, local)) for k in call.keywords if k.arg]
    params = [(column, param) for column, param in found if param is not None]
    if len(params) != 1:
        return None
    column, param = params[0]
    return param, "pk" if column in ("pk", "id") else column


def _class_call(
    call: ast.Call,
    names: dict[str, Any],
    view_model: Any,
    found: dict[str, Lookup],
    local: dict[str, str],
    kept: dict[str, tuple[str, str]],
) -> type[Model] | None:
    model = _looked_up_model(call, names)
    if (
        model is None
        and isinstance(call.func, ast.Attribute)
        and call.func.attr in ("get", "filter")
    ):
        model = view_model  # a .get()/.filter() on the view's own queryset
    if not (isinstance(model, type) and issubclass(model, Model)):
        return None
    filters = {
        k.arg: k.value.value for k in call.keywords if k.arg and isinstance(k.value, ast.Constant)
    }
    columns: dict[str, str] = {}
    for keyword in call.keywords:
        if not keyword.arg:
            continue
        param = _param(keyword.value, local)
        if param is not None:
            columns.setdefault(param, "pk" if keyword.arg in ("pk", "id") else keyword.arg)
        elif _is_self_attribute(keyword.value) and keyword.value.attr in kept:  # type: ignore[attr-defined]
            param, column = kept[keyword.value.attr]  # type: ignore[attr-defined]
            columns.setdefault(param, f"{keyword.arg}__{column}")
    together = frozenset(columns)
    for param, column in columns.items():
        previous = found.get(param)
        if previous is None or len(together) > len(previous.together):
            found[param] = Lookup(model, column, filters, together)
    return model


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

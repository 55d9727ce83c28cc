"""What the running project tells about a finding before its fix is written: which model classes'
querysets it goes on, where the models it names are imported from, and how the origin reaches a
name the per-row code took from the request."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path
from typing import Any

from django.apps import apps

from perftoolkit.core.findings import Finding
from perftoolkit.core.fix.calls import free_names, keyword_of, parse_fix
from perftoolkit.core.fix.context import at_origin, request_attribute
from perftoolkit.fix.edit import Placement
from perftoolkit.fix.source import read_source


def placement_for(finding: Finding, root: Path) -> Placement:
    assert finding.fix is not None
    code = finding.fix.code
    model = _model(finding.model)
    models = {model.__name__} if model is not None else set()
    first = _first_lookup(code)
    if model is not None and first and _relation(model, first) is None:
        # a nested prefetch: the fix goes on the querysets of the model that has the relation,
        # never on a queryset of the rows' own model (which has no such relation)
        models = {m.__name__ for m in apps.get_models() if _relation(m, first) is model}
    needed, free = free_names(code)
    imports = {name: path for name in needed if (path := _import_path(name, model)) is not None}
    routes = _routes(model) if model is not None else {}
    if model is not None and model.__name__ not in models:
        # a nested prefetch reaches the parents' rows through another queryset's eager loads
        routes = {}
        for parent in apps.get_models():
            if parent.__name__ in models:
                for name, paths in _routes(parent).items():
                    routes[name] = tuple(dict.fromkeys([*routes.get(name, ()), *paths]))
    manager = str(getattr(model._default_manager, "name", "") or "objects") if model else "objects"
    return Placement(frozenset(models), imports, _names(finding, free, root), routes, manager)


def _routes(target: Any, depth: int = 4) -> dict[str, tuple[tuple[str, bool], ...]]:
    """For each model class name, the relation paths (lookup, whether a hop is to-many) by which
    its rows reach rows of `target` in at most `depth` hops: where the rows the per-row code
    reads were loaded through a queryset of another model (a plan's meals' items)."""
    found: dict[str, list[tuple[str, bool]]] = {}
    frontier: list[tuple[Any, str, bool]] = [(target, "", False)]
    for _ in range(depth):
        following: list[tuple[Any, str, bool]] = []
        for model, path, many in frontier:
            for source in apps.get_models():
                for field in source._meta.get_fields():
                    if not field.is_relation or field.related_model is not model:
                        continue
                    name = _lookup_name(field)
                    if name is None:
                        continue
                    lookup = f"{name}__{path}" if path else name
                    hop_many = bool(field.one_to_many or field.many_to_many)
                    found.setdefault(source.__name__, []).append((lookup, many or hop_many))
                    following.append((source, lookup, many or hop_many))
        frontier = following
    return {name: tuple(paths) for name, paths in found.items()}


def _lookup_name(field: Any) -> str | None:
    """The name a prefetch_related/select_related lookup uses for a relation field."""
    if field.auto_created and not field.concrete:  # a reverse relation: its accessor
        accessor = getattr(field, "get_accessor_name", None)
        name = accessor() if callable(accessor) else None
        return str(name) if name and not str(name).endswith("+") else None
    if getattr(field, "remote_field", None) is None:
        return None
    return str(field.name)


def _model(label: str | None) -> Any:
    if not label:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _first_lookup(code: str) -> str | None:
    calls = parse_fix(code)
    if not calls:
        return None
    try:
        # `student_count=Count("enrollments")`: the expression after the keyword
        node = ast.parse(keyword_of(calls[0].args[0])[1], mode="eval").body
    except (SyntaxError, IndexError):
        return None
    while isinstance(node, ast.Call) and node.args:
        node = node.args[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.split("__")[0]
    return None


def _relation(model: Any, name: str) -> Any:
    """The model a relation named `name` (a field, or a reverse accessor) leads to."""
    for field in model._meta.get_fields():
        if not field.is_relation:
            continue
        names = {field.name}
        accessor = getattr(field, "get_accessor_name", None)
        if callable(accessor):
            names.add(str(accessor()))
        if name in names:
            return field.related_model
    return None


def _import_path(name: str, near: Any) -> str | None:
    """Where to import model class `name` from: its app's models module when that exposes it."""
    candidates = [m for m in apps.get_models() if m.__name__ == name]
    if len(candidates) > 1 and near is not None:
        candidates = [m for m in candidates if m._meta.app_label == near._meta.app_label]
    if len(candidates) != 1:
        return None
    found = candidates[0]
    models_module = found._meta.app_config.models_module
    if models_module is not None and getattr(models_module, name, None) is found:
        return str(models_module.__name__)
    return str(found.__module__)


def _names(finding: Finding, free: frozenset[str], root: Path) -> dict[str, str]:
    """For each free name of the fix the per-row code assigned from the request, its text at the
    origin (`user` → `self.request.user.pk`)."""
    if not free or finding.callsite is None or finding.origin is None:
        return {}
    site = _function(root / finding.callsite.file, finding.callsite.line)
    origin = _function(root / finding.origin.file, finding.origin.line)
    if site is None or origin is None:
        return {}
    params = [a.arg for a in origin.args.posonlyargs + origin.args.args]
    request = (
        "request" if "request" in params else "self.request" if params[:1] == ["self"] else None
    )
    if request is None:
        return {}
    out: dict[str, str] = {}
    for node in ast.walk(site):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in free
        ):
            attribute = request_attribute(ast.unparse(node.value))
            if attribute:
                out[node.targets[0].id] = at_origin(attribute, request)
    return out


def _function(path: Path, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        tree = ast.parse(read_source(path).text)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    best = None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.lineno <= line <= (node.end_lineno or node.lineno)
            and (best is None or node.lineno > best.lineno)
        ):
            best = node
    return best


def view_target(finding: Finding, paths: list[str], root: Path) -> tuple[Path, int] | None:
    """Where the rows of the finding's endpoint are queried when its origin is a method of a
    base class of the endpoint's view (a `get_context_data` that many list views share): the
    view's own `get_queryset`, `queryset = …` or `model = …` line, in that order; None when the
    view is not a class, the origin is not in one of its bases, or it defines none of them."""
    assert finding.origin is not None
    view = _view_class(paths)
    if view is None:
        return None
    origin = (root / finding.origin.file).resolve()
    if not any(_defines_line(base, origin, finding.origin.line) for base in view.__mro__[1:]):
        return None
    source = _project_source(view, root)
    if source is None:
        return None
    file, start, tree = source
    body = next((n.body for n in tree.body if isinstance(n, ast.ClassDef)), [])
    found = _rows_line(body)
    return (file, start + found - 1) if found is not None else None


def _rows_line(body: list[ast.stmt]) -> int | None:
    """In a view class's body: the last statement of its `get_queryset`, else its `queryset = …`
    line, else its `model = …` line."""
    found: dict[str, int] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef) and node.name == "get_queryset" and node.body:
            found.setdefault("get_queryset", node.body[-1].lineno)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in ("queryset", "model"):
                found.setdefault(target.id, node.lineno)
    return next((found[n] for n in ("get_queryset", "queryset", "model") if n in found), None)


def rows_line_now(text: str, line: int) -> int:
    """`line` (a view class's rows line, found in the file as it was) in the file's current
    `text`: the same class's rows line now, when an earlier fix gave the class a
    `queryset = …` beside its `model = …`; `line` itself otherwise."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return line
    around = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.lineno <= line <= (node.end_lineno or 0)
    ]
    if around:
        now = _rows_line(max(around, key=lambda c: c.lineno).body)
        if now is not None:
            return now
    return line


def _view_class(paths: list[str]) -> Any:
    from django.urls import Resolver404, resolve

    for path in paths:
        try:
            match = resolve(path)
        except Resolver404:
            continue
        view = getattr(match.func, "view_class", None) or getattr(match.func, "cls", None)
        return view if isinstance(view, type) else None
    return None


def _defines_line(cls: type, file: Path, line: int) -> bool:
    try:
        if Path(inspect.getsourcefile(cls) or "").resolve() != file:
            return False
        lines, start = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return False
    return start <= line < start + len(lines)


def function_view_target(
    finding: Finding, paths: list[str], root: Path, placement: Placement
) -> tuple[Path, int] | None:
    """Where the rows of the finding's endpoint are queried when its origin line does not build
    them (a page object's `len(self.object_list)`, a `context = {"page": page}` line after a
    paginator ran the query): the one statement of the endpoint's view function that builds a
    queryset of the rows' model (`topics = Topic.objects…`, a `CommentFlag.objects.filter(…)`
    handed to a helper). None when the view is not a project function or builds none or several."""
    view = _view_function(paths)
    source = _project_source(view, root) if view is not None and placement.models else None
    if source is None:
        return None
    file, start, tree = source
    assert finding.fix is not None
    first = _first_lookup(finding.fix.code)
    # The models whose rows the fix's first lookup starts from (a nested prefetch names the
    # parent's relation), else those whose rows reach the fix's rows through relations.
    own = {
        m.__name__
        for m in apps.get_models()
        if m.__name__ in placement.models and (first is None or _relation(m, first) is not None)
    }
    for models in (own, set(placement.routes)):
        found = _querysets_of(tree, models, {placement.manager, "objects", "_default_manager"})
        if len(found) == 1 or (found and _returns_of_one_function(tree, found)):
            # one statement; or the returns of one method, all of which locate edits
            return file, start + min(found) - 1
        if found:
            return None
    return None


def _returns_of_one_function(tree: ast.AST, lines: set[int]) -> bool:
    """Whether the statements at `lines` are all `return`s of one function."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            returns = {
                child.lineno
                for child in ast.walk(node)
                if isinstance(child, ast.Return) and child.value is not None
            }
            if lines <= returns:
                return True
    return False


def _querysets_of(tree: ast.AST, models: set[str], managers: set[str]) -> set[int]:
    """The lines of the statements that use a manager of one of `models` (`Topic.objects…`)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in managers
            and _model_name(node.value) in models
        ):
            statement = _statement_of(tree, node)
            if statement is not None:
                found.add(statement.lineno)
    return found


def _project_source(obj: Any, root: Path) -> tuple[Path, int, ast.Module] | None:
    """The file, first line and parsed source of a class or function of the project (under
    `root`); None for library code or source that cannot be read."""
    try:
        file = Path(inspect.getsourcefile(obj) or "").resolve()
        lines, start = inspect.getsourcelines(obj)
    except (OSError, TypeError):
        return None
    if not file.is_relative_to(root):
        return None
    try:
        return file, start, ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError:
        return None


def _view_function(paths: list[str]) -> Any:
    """The endpoint's view when it is a plain function (decorators unwrapped), the class of a view
    that is an instance (a syndication Feed), else None (a class-based view is view_target's)."""
    from django.urls import Resolver404, resolve

    for path in paths:
        try:
            match = resolve(path)
        except Resolver404:
            continue
        func = inspect.unwrap(match.func)
        if getattr(func, "view_class", None) or getattr(func, "cls", None):
            return None
        if inspect.isfunction(func):
            return func
        # a view that is an instance (a syndication Feed): the code of its class
        return None if inspect.isroutine(func) or isinstance(func, type) else type(func)
    return None


def _model_name(node: ast.expr) -> str | None:
    """`Topic` in `Topic.objects`, `models.Topic.objects`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _statement_of(tree: ast.AST, target: ast.AST) -> ast.stmt | None:
    """The innermost statement that holds `target` (not a compound statement's whole block)."""
    best: ast.stmt | None = None
    blocks = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or isinstance(node, blocks):
            continue
        if (best is None or node.lineno >= best.lineno) and any(
            child is target for child in ast.walk(node)
        ):
            best = node
    return best

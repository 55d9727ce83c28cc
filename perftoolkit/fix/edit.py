"""One finding's fix written into one module's source: locate the queryset, merge the calls, add
the imports. Text in, text out; Django is not needed (the caller says which model classes the
fix applies to and where a `Prefetch` queryset's model is imported from)."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from perftoolkit.core.fix.calls import (
    QuerysetCall,
    free_names,
    orm_names,
    parse_fix,
    substitute,
)
from perftoolkit.core.fix.merge import MergeRefused, merge_calls
from perftoolkit.fix.chains import ChainRewriter, ChainView, read_chain
from perftoolkit.fix.imports import bound_names, ensure_imports
from perftoolkit.fix.locate import Located, Unplaceable, locate

ORM_MODULE = "django.db.models"


class AlreadyThere(Exception):
    """The queryset already makes every call the fix asks for."""


@dataclass(frozen=True, slots=True)
class Placement:
    """What the caller knows about the project: `models` are the class names of the rows the fix
    goes on; `imports` the module each model a fix names is imported from; `names` the text
    that stands, at the origin, for a name the fix took from the per-row code (`user`)."""

    models: frozenset[str]
    imports: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    # model class name → the lookups (and whether one hop is to-many) by which its rows reach
    # the rows of the fix: where the origin's queryset loads them through another model
    routes: Mapping[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    manager: str = "objects"  # the default manager of the rows' model, by its attribute name


def apply_fix(source: str, line: int, code: str, placement: Placement) -> str:
    """The module's new source; raises Unplaceable (with the reason) or AlreadyThere."""
    if placement.names:
        code = substitute(code, placement.names)
    calls = parse_fix(code)
    if calls is None:
        raise Unplaceable(f"the fix is not queryset code perf_fix can write ({code})")
    source, line = _queryset_for_model(source, line, placement)
    source = _shortcut_queryset(source, line, placement)
    try:
        located = locate(source, line, placement.models)
    except Unplaceable:
        nested = _nested(source, line, placement)
        through = None if nested else _through(source, line, calls, placement)
        if nested is not None:
            located = nested
        elif through is not None:
            located, code = through
            calls = parse_fix(code)
            assert calls is not None
        else:
            raise
    models, free = free_names(code)
    module = located.module
    unknown = sorted(free - _scope_names(located) - bound_names(module))
    if unknown:
        raise Unplaceable(
            f"the fix uses {', '.join(unknown)}, which the code where the rows are queried does "
            "not define"
        )
    missing = sorted(m for m in models if m not in placement.imports)
    if missing and set(missing) - bound_names(module):
        raise Unplaceable(f"cannot tell which model {', '.join(missing)} is, to import it")
    rewriter = ChainRewriter()
    changed = False
    for view in located.chains:
        if view.flattened:
            raise Unplaceable(
                "the rows are read with values()/values_list(), which eager loads do not reach"
            )
        try:
            merged = merge_calls(view.queryset_calls(module), calls)
        except MergeRefused as exc:
            raise Unplaceable(str(exc)) from None
        changed = changed or not merged.empty
        rewriter.add(view, merged, module)
    if not changed:
        raise AlreadyThere()
    edited = module.visit(rewriter)
    wanted = [(ORM_MODULE, n) for n in sorted(orm_names(code))]
    wanted += [(placement.imports[m], m) for m in sorted(models) if m in placement.imports]
    return ensure_imports(edited, wanted).code


def _queryset_for_model(source: str, line: int, placement: Placement) -> tuple[str, int]:
    """A view class that names only its `model = Book` (a ListView, a FilterView) gets
    `queryset = Book.objects` after that line, for the fix to go on: its rows are the model's
    default manager's all the same. The source and line unchanged for any other line."""
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except cst.ParserSyntaxError:
        return source, line
    positions = wrapper.resolve(PositionProvider)
    for node in wrapper.module.body:
        if not isinstance(node, cst.ClassDef) or not isinstance(node.body, cst.IndentedBlock):
            continue
        body = list(node.body.body)
        names = [_assigned(statement) for statement in body]
        if "queryset" in names or any(
            isinstance(s, cst.FunctionDef) and s.name.value == "get_queryset" for s in body
        ):
            continue
        for index, statement in enumerate(body):
            where = positions[statement]
            if names[index] != "model" or not where.start.line <= line <= where.end.line:
                continue
            assert isinstance(statement, cst.SimpleStatementLine)
            assign = statement.body[0]
            assert isinstance(assign, cst.Assign)
            model = wrapper.module.code_for_node(assign.value)
            if model.rsplit(".", 1)[-1] not in placement.models:
                return source, line
            added = cst.parse_statement(f"queryset = {model}.{placement.manager}\n")
            body.insert(index + 1, added)
            module = wrapper.module.with_changes(
                body=[
                    n.with_changes(body=n.body.with_changes(body=body)) if n is node else n
                    for n in wrapper.module.body
                ]
            )
            return module.code, where.end.line + 1
    return source, line


# Django's shortcuts that take a model or a queryset first: `get_object_or_404(Book, pk=pk)`.
_SHORTCUTS = ("get_object_or_404", "get_list_or_404")


def _shortcut_queryset(source: str, line: int, placement: Placement) -> str:
    """`get_object_or_404(Book, pk=pk)` at the origin line becomes
    `get_object_or_404(Book.objects, pk=pk)` (the same rows: the shortcut takes the model's
    default manager), for the fix to go on. Only when the line has exactly one such call of the
    fix's model; the source unchanged otherwise."""
    if not placement.models or not any(name in source for name in _SHORTCUTS):
        return source
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except cst.ParserSyntaxError:
        return source
    positions = wrapper.resolve(PositionProvider)
    module = wrapper.module
    found: list[cst.Arg] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            name = func.attr.value if isinstance(func, cst.Attribute) else None
            if isinstance(func, cst.Name):
                name = func.value
            where = positions[node]
            if (
                name in _SHORTCUTS
                and node.args
                and node.args[0].keyword is None
                and where.start.line <= line <= where.end.line
            ):
                first = node.args[0]
                text = module.code_for_node(first.value)
                if (
                    isinstance(first.value, cst.Name | cst.Attribute)
                    and text.rsplit(".", 1)[-1] in placement.models
                ):
                    found.append(first)

    module.visit(Finder())
    if len(found) != 1:
        return source
    [arg] = found
    manager = cst.Attribute(value=arg.value, attr=cst.Name(placement.manager))

    class Rewriter(cst.CSTTransformer):
        def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
            return updated.with_changes(value=manager) if original is arg else updated

    return module.visit(Rewriter()).code


def _assigned(statement: cst.CSTNode) -> str | None:
    """The name a one-target class-body assignment (`model = Book`) binds."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if isinstance(assign, cst.Assign) and len(assign.targets) == 1:
        target = assign.targets[0].target
        return target.value if isinstance(target, cst.Name) else None
    return None


def _nested(source: str, line: int, placement: Placement) -> Located | None:
    """The queryset of the fix's rows inside a `Prefetch` of the origin's queryset
    (`Prefetch("meal_set", queryset=Meal.objects.order_by("time"))` on the plans, for meals'
    items): the fix goes into that queryset as it is written for the rows. Only when exactly one
    such queryset is there; None otherwise."""
    if not placement.models:
        return None
    try:
        located = locate(source, line, frozenset())
    except Unplaceable:
        return None
    found: dict[int, ChainView] = {}
    for view in located.chains:
        for nested in _prefetch_querysets(view):
            if nested.model in placement.models:
                found.setdefault(id(nested.node), nested)
    if len(found) != 1:
        return None
    return Located(located.wrapper, list(found.values()))


def _prefetch_querysets(view: ChainView) -> list[ChainView]:
    """The `queryset=` chains of the `Prefetch` objects a chain's calls name, and theirs in
    turn."""
    out: list[ChainView] = []
    for call in view.calls:
        for arg in call.args:
            value = arg.value
            if not isinstance(value, cst.Call) or _callee(value) != "Prefetch":
                continue
            for inner in value.args:
                if inner.keyword is not None and inner.keyword.value == "queryset":
                    nested = read_chain(inner.value)
                    out.append(nested)
                    out += _prefetch_querysets(nested)
    return out


def _callee(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


def _through(
    source: str, line: int, calls: tuple[QuerysetCall, ...], placement: Placement
) -> tuple[Located, str] | None:
    """The fix written for rows the origin's queryset loads through one of its own eager loads:
    `.prefetch_related("mealitem_set")` for meals becomes `.prefetch_related("meal_set__mealitem_set")`
    on a queryset of plans that prefetches `meal_set`. Only when exactly one relation path from
    the queryset's model to the rows is already loaded by it; None otherwise."""
    if not placement.routes or any(
        c.method not in ("select_related", "prefetch_related") for c in calls
    ):
        return None
    lookups = [_lookup_of(a) for c in calls for a in c.args]
    if any(lookup is None for lookup in lookups):
        return None
    found: list[tuple[Located, list[ChainView], set[tuple[str, bool]]]] = []
    # One model at a time: a line can name querysets of several models that reach the rows (a
    # view's `render(…)` of a topic's private rows and of its comments); those that load a path
    # to them built them.
    for model in sorted(m for m in placement.routes if m in source):
        try:
            located = locate(source, line, frozenset({model}))
        except Unplaceable:
            continue
        views: list[ChainView] = []
        chosen: set[tuple[str, bool]] = set()
        for view in located.chains:
            if view.model != model:
                continue
            loaded = [
                _literal(a) or ""
                for c in view.queryset_calls(located.module)
                if c.method in ("select_related", "prefetch_related")
                for a in c.args
            ]
            paths = [
                (path, many)
                for path, many in placement.routes[model]
                if any(each == path or each.startswith(f"{path}__") for each in loaded)
            ]
            if len(paths) > 1:
                return None
            if paths:
                views.append(view)
                chosen.update(paths)
        if views:
            found.append((located, views, chosen))
    if len(found) != 1 or len(found[0][2]) != 1:
        return None
    located, views, chosen = found[0]
    located = Located(located.wrapper, views)
    ((path, many),) = chosen
    code = "".join(
        f".{'prefetch_related' if many else c.method}("
        + ", ".join(_prefixed(a, path) for a in c.args)
        + ")"
        for c in calls
    )
    return located, code


def _lookup_of(argument: str) -> str | None:
    """The lookup an eager-load argument names: a string literal, or a `Prefetch`'s first one."""
    literal = _literal(argument)
    if literal is not None:
        return literal
    prefetch = _prefetch_lookup(argument)
    return prefetch[0] if prefetch is not None else None


def _prefetch_lookup(argument: str) -> tuple[str, int, int] | None:
    """`Prefetch("lookup", …)`: the lookup and where its literal starts and ends in `argument`."""
    try:
        node = ast.parse(argument.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "Prefetch"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and node.args[0].end_col_offset is not None
        and node.args[0].end_lineno == node.args[0].lineno == 1
    ):
        return None
    offset = len(argument) - len(argument.lstrip())
    first = node.args[0]
    lookup = str(first.value)
    return lookup, offset + first.col_offset, offset + (first.end_col_offset or 0)


def _prefixed(argument: str, path: str) -> str:
    """The argument with `path__` in front of its lookup."""
    literal = _literal(argument)
    if literal is not None:
        return f'"{path}__{literal}"'
    found = _prefetch_lookup(argument)
    assert found is not None  # _through took only arguments _lookup_of reads
    lookup, start, end = found
    return f'{argument[:start]}"{path}__{lookup}"{argument[end:]}'


def _literal(text: str) -> str | None:
    """The string a plain string-literal argument spells; None for anything else."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _scope_names(located: object) -> set[str]:
    """Every name a function of the module binds (parameters, assignments): a free name of the
    fix (`self` after a substitution) must be one of them or a module-level one."""
    module: cst.Module = located.module  # type: ignore[attr-defined]
    names: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Param(self, node: cst.Param) -> None:
            names.add(node.name.value)

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name):
                names.add(node.target.value)

    module.visit(Visitor())
    return names

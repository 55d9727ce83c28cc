"""The queryset a finding's origin line builds, found in the module's syntax tree.

The origin is the line whose query loaded the rows. Its statement names the queryset directly
(`return Course.objects.filter(…)`, `queryset = …`, `for row in Model.objects…:`) or through a
local variable, followed back to the assignments that build it (`qs = Model.objects…`, not
`qs = qs.filter(…)`, which inherits the fix). In `get_queryset` every return that gives rows of
the model is edited, whichever branch the recorded request took. When a line names several
querysets and the model does not tell them apart, nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, ParentNodeProvider, PositionProvider

from perftoolkit.fix.chains import ChainView, read_chain


class Unplaceable(Exception):
    """The fix cannot be placed at this origin: the message says why."""


@dataclass
class Located:
    wrapper: MetadataWrapper
    chains: list[ChainView]

    @property
    def module(self) -> cst.Module:
        return self.wrapper.module


_QUERYSET_METHODS = ("get_queryset",)


@lru_cache(maxsize=16)
def _parsed(source: str) -> MetadataWrapper:
    """The module's tree with its metadata, once per source text: a fix is placed by several
    calls on one file (each model of a chain, each finding of a run), and parsing a module of a
    few thousand lines with its positions costs seconds. Trees are immutable: an edit makes a new
    one, the cached one stays as the text it was parsed from."""
    return MetadataWrapper(cst.parse_module(source))


def locate(source: str, line: int, models: frozenset[str]) -> Located:
    """The chains to edit for an origin at `line`; `models` are the class names whose rows the
    fix applies to (the finding's model, or the parent of a nested prefetch)."""
    try:
        wrapper = _parsed(source)
    except cst.ParserSyntaxError as exc:
        raise Unplaceable(f"the file cannot be parsed ({exc.message})") from None
    finder = _Finder(wrapper, line)
    statement = finder.statement()
    function = finder.enclosing(statement, cst.FunctionDef)
    if function is not None and (
        function.name.value in _QUERYSET_METHODS
        or (isinstance(statement, cst.SimpleStatementLine) and _returns_only_rows(function, models))
    ):
        expressions = [r.value for r in own_returns(function) if r.value is not None]
        chains = _chains(finder, expressions, function, None, models, queryset=True)
    elif function is not None and _reads_view_rows(finder, statement, function, context=True):
        # context["…"]: the rows are not the dict's, whatever the line calls
        chains = _view_rows(finder, function, models)
    else:
        assigned = _is_queryset_attribute(statement)
        try:
            chains = _iterated(finder, statement, function, line, models)
            if not chains:
                chains = _chains(
                    finder, _expressions(statement), function, line, models, queryset=assigned
                )
        except Unplaceable:
            if function is None or not _reads_view_rows(finder, statement, function):
                raise
            chains = _view_rows(finder, function, models)
    return Located(wrapper, chains)


def _iterated(
    finder: _Finder,
    statement: cst.CSTNode,
    function: cst.FunctionDef | None,
    line: int,
    models: frozenset[str],
) -> list[ChainView]:
    """The chains of what a loop on the origin line iterates (`for talk in event.talks:`, a
    comprehension's `for review in self.submission.reviews.exclude(…)`): the rows whose query
    ran there, so a property or a related set's chain is their queryset. [] when no loop's
    iterable is on the line, or nothing in it can be placed."""
    iterables: list[cst.BaseExpression] = []
    if isinstance(statement, cst.For):
        iterables.append(statement.iter)

    class Loops(cst.CSTVisitor):
        def visit_CompFor(self, node: cst.CompFor) -> None:
            where = finder.range(node.iter)
            if where.start.line <= line <= where.end.line:
                iterables.append(node.iter)

    if not isinstance(statement, cst.For):
        for expression in _expressions(statement):
            expression.visit(Loops())
    if len(iterables) != 1 or _kept_on_self(iterables[0]):
        return []
    try:
        return _chains(finder, iterables, function, line, models, queryset=True)
    except Unplaceable:
        return []


def _kept_on_self(expression: cst.BaseExpression) -> bool:
    """`self.object_list`, `self.rows`: rows kept on the object where they were built, not
    here."""
    node = expression
    while isinstance(node, cst.Attribute):
        node = node.value
    return node is not expression and _is_self(node)


def _reads_view_rows(
    finder: _Finder, statement: cst.CSTNode, function: cst.FunctionDef, *, context: bool = False
) -> bool:
    """The line reads the rows a class-based view's `get_queryset` gave: `self.object_list`,
    `self.get_queryset()`, or `context["…"]` of `context = super().get_context_data(…)` (only
    the last with `context`)."""
    contexts = {
        name
        for name in _assigned_names(function)
        if any(
            _is_super_call(v, "get_context_data") for v, _ in _roots(finder, function, name, 10**9)
        )
    }
    found = False

    class Visitor(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            nonlocal found
            if not context and _is_self(node.value) and node.attr.value == "object_list":
                found = True

        def visit_Call(self, node: cst.Call) -> None:
            nonlocal found
            func = node.func
            if not context and isinstance(func, cst.Attribute) and _is_self(func.value):
                found = found or func.attr.value == "get_queryset"

        def visit_Subscript(self, node: cst.Subscript) -> None:
            nonlocal found
            if isinstance(node.value, cst.Name) and node.value.value in contexts:
                found = True

    for expression in _expressions(statement):
        expression.visit(Visitor())
    return found


def _view_rows(
    finder: _Finder, function: cst.FunctionDef, models: frozenset[str]
) -> list[ChainView]:
    """The chains of the rows the view's class gives: every return of its `get_queryset`, or its
    `queryset = …` attribute."""
    owner = finder.parents.get(function)
    while owner is not None and not isinstance(owner, cst.ClassDef):
        owner = finder.parents.get(owner)
    if not isinstance(owner, cst.ClassDef) or not isinstance(owner.body, cst.IndentedBlock):
        raise Unplaceable("the line reads the view's rows, but it is not in a view's class")
    for item in owner.body.body:
        if isinstance(item, cst.FunctionDef) and item.name.value in _QUERYSET_METHODS:
            expressions = [r.value for r in own_returns(item) if r.value is not None]
            return _chains(finder, expressions, item, None, models, queryset=True)
    for item in owner.body.body:
        if _is_queryset_attribute(item):
            return _chains(finder, _expressions(item), None, None, models, queryset=True)
    if not owner.bases:
        raise Unplaceable(
            f"the line reads the rows {owner.name.value} was given (it is no view: it has no base "
            "class), and they are queried where it is created"
        )
    raise Unplaceable(
        f"the line reads the rows of the view's get_queryset, which {owner.name.value} does not "
        "define (a parent class does)"
    )


def _is_self(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


def _is_super_call(node: cst.BaseExpression, method: str) -> bool:
    """`super().method(…)`."""
    if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
        return False
    inner = node.func.value
    return (
        node.func.attr.value == method
        and isinstance(inner, cst.Call)
        and isinstance(inner.func, cst.Name)
        and inner.func.value == "super"
    )


def _assigned_names(function: cst.FunctionDef) -> set[str]:
    names: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name):
                names.add(node.target.value)

    function.visit(Visitor())
    return names


class _Finder:
    def __init__(self, wrapper: MetadataWrapper, line: int) -> None:
        self.wrapper = wrapper
        self.line = line
        self.positions = wrapper.resolve(PositionProvider)
        self.parents = wrapper.resolve(ParentNodeProvider)
        self._functions: dict[str, cst.FunctionDef] | None = None

    def range(self, node: cst.CSTNode) -> CodeRange:
        return self.positions[node]

    def chain(self, node: cst.BaseExpression) -> ChainView:
        """The chain of `node`, its model known also when it starts with a call of a function of
        this module that returns querysets of one model (`optimized_books().filter(…)`)."""
        view = read_chain(node)
        if view.model is None:
            view.model = self.helper_model(node)
        return view

    def helper_model(self, node: cst.BaseExpression, depth: int = 0) -> str | None:
        """`Book` for a chain that starts with `helper()` when the module's own function
        `helper` returns only querysets of `Book` (followed through helpers it calls, a few
        deep); None otherwise."""
        base = node
        while True:
            if isinstance(base, cst.Subscript | cst.Attribute):
                base = base.value
            elif isinstance(base, cst.Call) and isinstance(base.func, cst.Attribute):
                base = base.func.value
            else:
                break
        if not isinstance(base, cst.Call) or not isinstance(base.func, cst.Name) or depth > 3:
            return None
        function = self.functions.get(base.func.value)
        if function is None:
            return None
        values = [r.value for r in own_returns(function)]
        if not values or any(v is None for v in values):
            return None
        found = {
            read_chain(v).model or self.helper_model(v, depth + 1) for v in values if v is not None
        }
        return found.pop() if len(found) == 1 else None

    @property
    def functions(self) -> dict[str, cst.FunctionDef]:
        """The module's own top-level functions, by name (one defined twice: neither)."""
        if self._functions is None:
            seen: dict[str, list[cst.FunctionDef]] = {}
            for item in self.wrapper.module.body:
                if isinstance(item, cst.FunctionDef):
                    seen.setdefault(item.name.value, []).append(item)
            self._functions = {name: defs[0] for name, defs in seen.items() if len(defs) == 1}
        return self._functions

    def statement(self) -> cst.CSTNode:
        best: cst.CSTNode | None = None
        best_span = 10**9
        for node, where in self.positions.items():
            header = _header(node)
            if header is None:
                continue
            start = where.start.line
            end = self.positions[header].end.line if header is not node else where.end.line
            if start <= self.line <= end and end - start < best_span:
                best, best_span = node, end - start
        if best is None:
            raise Unplaceable(f"no statement at line {self.line}")
        return best

    def enclosing(self, node: cst.CSTNode, kind: type[cst.CSTNode]) -> cst.FunctionDef | None:
        current: cst.CSTNode | None = node
        while current is not None:
            if isinstance(current, kind) and isinstance(current, cst.FunctionDef):
                return current
            if isinstance(current, cst.ClassDef) and kind is cst.FunctionDef:
                return None
            current = self.parents.get(current)
        return None


def _is_queryset_attribute(statement: cst.CSTNode) -> bool:
    """`queryset = …` in a class body (or anywhere): its value is the rows."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    return any(
        isinstance(small, cst.Assign)
        and any(
            isinstance(t.target, cst.Name) and t.target.value == "queryset" for t in small.targets
        )
        for small in statement.body
    )


def _header(node: cst.CSTNode) -> cst.CSTNode | None:
    """The part of a statement a line can be in: a simple statement whole, a compound one's header."""
    if isinstance(node, cst.SimpleStatementLine):
        return node
    if isinstance(node, cst.For):
        return node.iter
    if isinstance(node, cst.If | cst.While):
        return node.test
    if isinstance(node, cst.With) and node.items:
        return node.items[-1]
    return None


def _expressions(statement: cst.CSTNode) -> list[cst.BaseExpression]:
    if isinstance(statement, cst.For):
        return [statement.iter]
    if isinstance(statement, cst.If | cst.While):
        return [statement.test]
    if isinstance(statement, cst.With):
        return [item.item for item in statement.items]
    out: list[cst.BaseExpression] = []
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            value = getattr(small, "value", None)
            if isinstance(value, cst.BaseExpression):
                out.append(value)
    return out


def _returns_only_rows(function: cst.FunctionDef, models: frozenset[str]) -> bool:
    """Every return of the function gives a queryset of the rows' model, written out (a feed's
    `items()` that filters one way or another): the rows come from whichever ran, so each is
    edited, as in a `get_queryset`."""
    values = [r.value for r in own_returns(function)]
    return (
        len(values) > 1
        and all(v is not None for v in values)
        and all(read_chain(v).model in models for v in values if v is not None)
    )


def own_returns(function: cst.FunctionDef) -> Iterator[cst.Return]:
    """The function's own returns (not those of functions or classes defined inside it)."""

    class Visitor(cst.CSTVisitor):
        def __init__(self) -> None:
            self.found: list[cst.Return] = []

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is function

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_Return(self, node: cst.Return) -> None:
            self.found.append(node)

    visitor = Visitor()
    function.visit(visitor)
    yield from visitor.found


def _chains(
    finder: _Finder,
    expressions: list[cst.BaseExpression],
    function: cst.FunctionDef | None,
    line: int | None,
    models: frozenset[str],
    *,
    queryset: bool,
) -> list[ChainView]:
    found: dict[int, ChainView] = {}
    skipped: list[str] = []
    for expression in expressions:
        before = line if line is not None else finder.range(expression).start.line
        for view in _resolve(finder, expression, function, before, models, queryset=queryset):
            if view.empty:
                continue
            if view.model is not None and models and view.model not in models:
                skipped.append(view.model)
                continue
            found.setdefault(id(view.node), view)
    if not found:
        others = f" (only querysets of {', '.join(sorted(set(skipped)))})" if skipped else ""
        wanted = " or ".join(sorted(models)) or "the rows"
        raise Unplaceable(f"no queryset of {wanted} is built on this line{others}")
    return list(found.values())


def _resolve(
    finder: _Finder,
    expression: cst.BaseExpression,
    function: cst.FunctionDef | None,
    before: int,
    models: frozenset[str],
    depth: int = 0,
    *,
    queryset: bool = False,
) -> list[ChainView]:
    """`queryset`: the expression is known to give the rows (a get_queryset return, the value of
    a variable the line reads the rows from)."""
    while isinstance(expression, cst.Subscript):  # courses[:20]: the fix goes on courses
        expression = expression.value
    if isinstance(expression, cst.Name):
        roots = _roots(finder, function, expression.value, before) if function else []
        if roots and depth < 8:
            out: list[ChainView] = []
            for value, where in roots:
                out += _resolve(finder, value, function, where, models, depth + 1, queryset=True)
            return out
        return [read_chain(expression)] if _is_parameter(function, expression.value) else []
    view = finder.chain(expression)
    if view.calls or view.model is not None:
        return [view]
    if queryset and isinstance(expression, cst.Attribute):  # Book.published: a custom manager
        return [view]
    inner = _inner(finder, expression, function, before, models, depth)
    if inner or not queryset:
        return inner
    # A call of a function (published_courses()) where the rows are expected: the fix goes
    # after it. Not a class: SomeSerializer(rows) or a form is no queryset.
    callee = expression.func if isinstance(expression, cst.Call) else None
    name = callee.attr.value if isinstance(callee, cst.Attribute) else getattr(callee, "value", "")
    return [view] if isinstance(name, str) and name[:1].islower() else []


def _inner(
    finder: _Finder,
    expression: cst.BaseExpression,
    function: cst.FunctionDef | None,
    before: int,
    models: frozenset[str],
    depth: int,
) -> list[ChainView]:
    """The querysets inside a larger expression (`render(…, {"rows": rows})`, `list(qs)`)."""
    candidates: list[list[ChainView]] = []
    for node in _subexpressions(finder, expression):
        if isinstance(node, cst.Name):
            if function is None or not _roots(finder, function, node.value, before):
                continue
        elif finder.chain(node).model is None:
            continue
        views = _resolve(finder, node, function, before, models, depth + 1)
        if views:
            candidates.append(views)
    if len(candidates) > 1:
        matching = [c for c in candidates if any(v.model in models for v in c)]
        if not matching and models and all(v.model for c in candidates for v in c):
            others = sorted({str(v.model) for c in candidates for v in c})
            raise Unplaceable(
                f"no queryset of {' or '.join(sorted(models))} is built on this line (it uses "
                f"querysets of {', '.join(others)})"
            )
        candidates = matching or candidates
    if len(candidates) > 1:
        raise Unplaceable("the line builds several querysets and the model does not tell which")
    return candidates[0] if candidates else []


def _subexpressions(finder: _Finder, expression: cst.BaseExpression) -> list[cst.BaseExpression]:
    """Maximal chains and names inside an expression (not the links inside a chain)."""
    out: list[cst.BaseExpression] = []

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> bool:
            if finder.chain(node).model is not None:
                out.append(node)
                return False
            return True

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            if read_chain(node).model is not None:
                out.append(node)
                return False
            return True

        def visit_Name(self, node: cst.Name) -> None:
            out.append(node)

        def visit_Arg_keyword(self, node: cst.Arg) -> None:
            return None

    expression.visit(Visitor())
    keywords = _keyword_names(expression)
    return [n for n in out if id(n) not in keywords]


def _keyword_names(expression: cst.BaseExpression) -> set[int]:
    names: set[int] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Arg(self, node: cst.Arg) -> None:
            if node.keyword is not None:
                names.add(id(node.keyword))

        def visit_Attribute(self, node: cst.Attribute) -> None:
            names.add(id(node.attr))

    expression.visit(Visitor())
    return names


def _roots(
    finder: _Finder, function: cst.FunctionDef | None, name: str, before: int
) -> list[tuple[cst.BaseExpression, int]]:
    """The assignments to `name` in `function` before line `before` that build it anew (not
    `name = name.filter(…)`), with their lines."""
    if function is None:
        return []
    out: list[tuple[cst.BaseExpression, int]] = []

    class Visitor(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is function

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Assign(self, node: cst.Assign) -> None:
            if any(isinstance(t.target, cst.Name) and t.target.value == name for t in node.targets):
                self._take(node, node.value)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name and node.value:
                self._take(node, node.value)

        def _take(self, node: cst.CSTNode, value: cst.BaseExpression) -> None:
            where = finder.range(node).start.line
            if where < before and not _mentions(value, name):
                out.append((value, where))

    function.visit(Visitor())
    return out


def _mentions(expression: cst.BaseExpression, name: str) -> bool:
    """Whether the variable `name` is read in `expression`: not an attribute or a keyword of that
    name (`self.queryset.filter(…)` builds `queryset` anew)."""
    found = False

    class Visitor(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            nonlocal found
            found = found or node.value == name

    expression.visit(Visitor())
    return found


def _is_parameter(function: cst.FunctionDef | None, name: str) -> bool:
    if function is None:
        return False
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    return any(p.name.value == name for p in every) and name not in ("self", "cls", "request")

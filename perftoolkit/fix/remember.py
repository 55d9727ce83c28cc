"""The fix of a duplicate query that one function runs each time it is called with the same object:
its result kept on that object, so the function's queries run once for it.

    def get_user_roles(user):
        return frozenset(Group.objects.filter(user=user.pk).values_list("name", flat=True))

becomes

    def get_user_roles(user):
        remembered = getattr(user, "__dict__", {})  # kept on user: its queries run once for it
        if "_get_user_roles_result" in remembered:
            return remembered["_get_user_roles_result"]
        return remembered.setdefault("_get_user_roles_result", frozenset(Group.objects…))

the way Django's own `ModelBackend` keeps a user's permissions on the user (`_perm_cache`). An
object without a `__dict__` (a number, a slotted class) keeps nothing and is asked every time,
as before. Only a function that reads: one parameter, no default, not async, not a generator,
no decorator but `@property`, no `global` or `nonlocal`, the parameter never rebound, no call
that writes (`save()`, `create()`, `update()`, `delete()`, a related manager's `add()`…), and a
value in each of its returns. Anything else is left to the reader, with the reason.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from perftoolkit.fix.edit import AlreadyThere
from perftoolkit.fix.locate import Unplaceable, own_returns

# Calls that change rows or state: a function that makes one is not remembered.
_WRITES = frozenset(
    {
        "save",
        "delete",
        "create",
        "update",
        "get_or_create",
        "update_or_create",
        "bulk_create",
        "bulk_update",
        "add",
        "remove",
        "set",
        "clear",
        "execute",
        "executemany",
        "send",
        "append",
        "extend",
        "pop",
        "setdefault",
        "incr",
        "decr",
    }
)
# Of those, what only a list or dict the function built itself answers: harmless on its own names.
_CONTAINER = frozenset({"append", "extend", "pop", "setdefault"})
_DECORATORS = ("property",)
_MEMO_NAMES = ("remembered", "_remembered", "remembered_results")


class AlreadyRemembered(AlreadyThere):
    """The function already keeps its result on its argument."""


def result_key(function: str) -> str:
    return f"_{function}_result"


def remember_result(source: str, line: int, function: str) -> tuple[str, str]:
    """The module with the function `function` that holds `line` keeping its result on its one
    argument, and that argument's name. Raises Unplaceable (with the reason) or
    AlreadyRemembered."""
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except cst.ParserSyntaxError as exc:
        raise Unplaceable(f"the file cannot be parsed ({exc.message})") from None
    positions = wrapper.resolve(PositionProvider)
    found: list[cst.FunctionDef] = []

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            where = positions[node]
            if node.name.value == function and where.start.line <= line <= where.end.line:
                found.append(node)

    wrapper.module.visit(Finder())
    if not found:
        raise Unplaceable(f"no function {function}() holds line {line}")
    target = found[-1]  # the innermost
    parameter = _parameter(target)
    key = result_key(function)
    code = wrapper.module.code_for_node(target)
    if f'"{key}"' in code:
        raise AlreadyRemembered(f"{function}() already keeps its result")
    _check_reads_only(target, parameter)
    returns = list(own_returns(target))
    if not returns:
        raise Unplaceable(f"{function}() returns nothing, so there is no result to keep")
    if any(r.value is None for r in returns):
        raise Unplaceable(f"{function}() has a return without a value")
    names = _names(target)
    memo = next((n for n in _MEMO_NAMES if n not in names), None)
    if memo is None:
        raise Unplaceable(f"{function}() uses every name the kept result could take")
    return wrapper.module.visit(_Rewriter(target, parameter, key, memo, returns)).code, parameter


def _parameter(function: cst.FunctionDef) -> str:
    name = function.name.value
    params = function.params
    every = [*params.posonly_params, *params.params]
    if function.asynchronous is not None:
        raise Unplaceable(f"{name}() is async")
    if (
        len(every) != 1
        or params.kwonly_params
        or isinstance(params.star_arg, cst.Param | cst.ParamStar)
        or params.star_kwarg is not None
    ):
        raise Unplaceable(
            f"{name}() takes {'no' if not every else 'more than one'} argument, so there is no one "
            "object its result belongs to"
        )
    if every[0].default is not None:
        raise Unplaceable(f"{name}()'s argument has a default")
    for decorator in function.decorators:
        expression = decorator.decorator
        if not (isinstance(expression, cst.Name) and expression.value in _DECORATORS):
            raise Unplaceable(
                f"{name}() is decorated, and its decorator may change what it returns"
            )
    return every[0].name.value


def _check_reads_only(function: cst.FunctionDef, parameter: str) -> None:
    name = function.name.value
    local = _assigned(function) - {parameter, "self", "cls"}

    class Visitor(cst.CSTVisitor):
        def __init__(self) -> None:
            self.reason: str | None = None

        def visit_Yield(self, node: cst.Yield) -> None:
            self.reason = self.reason or f"{name}() is a generator"

        def visit_Await(self, node: cst.Await) -> None:
            self.reason = self.reason or f"{name}() awaits"

        def visit_Global(self, node: cst.Global) -> None:
            self.reason = self.reason or f"{name}() changes a global name"

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            self.reason = self.reason or f"{name}() changes a name of its enclosing function"

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            target = node.target
            if isinstance(target, cst.Name) and target.value == parameter:
                self.reason = self.reason or f"{name}() rebinds its argument {parameter}"
            elif isinstance(target, cst.Attribute | cst.Subscript) and _root(target) not in local:
                self.reason = self.reason or f"{name}() assigns to an attribute or an item"

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if not isinstance(node.target, cst.Name) and _root(node.target) not in local:
                self.reason = self.reason or f"{name}() assigns to an attribute or an item"

        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if not isinstance(func, cst.Attribute) or func.attr.value not in _WRITES:
                return
            called = func.attr.value
            if called in _CONTAINER and _root(func.value) in local:
                return  # a list or dict of its own
            self.reason = self.reason or f"{name}() calls .{called}(), which may write"

    visitor = Visitor()
    function.body.visit(visitor)
    if visitor.reason:
        raise Unplaceable(f"{visitor.reason}, so keeping its result could change what it does")


def _root(node: cst.BaseExpression) -> str | None:
    """`rows` of `rows[0].title` or `rows.append`."""
    while isinstance(node, cst.Attribute | cst.Subscript | cst.Call):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node.value if isinstance(node, cst.Name) else None


def _assigned(function: cst.FunctionDef) -> set[str]:
    """The names the function binds by assignment or a for loop."""
    names: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            names.update(_bound(node.target))

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            names.update(_bound(node.target))

        def visit_For(self, node: cst.For) -> None:
            names.update(_bound(node.target))

    function.body.visit(Visitor())
    return names


def _bound(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        return {n for e in target.elements for n in _bound(e.value)}
    return set()


def _names(function: cst.FunctionDef) -> set[str]:
    names: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

    function.visit(Visitor())
    return names


class _Rewriter(cst.CSTTransformer):
    def __init__(
        self,
        function: cst.FunctionDef,
        parameter: str,
        key: str,
        memo: str,
        returns: list[cst.Return],
    ) -> None:
        self.function = function
        self.parameter = parameter
        self.key = key
        self.memo = memo
        self.returns = {id(r) for r in returns}
        self.originals: dict[int, cst.Return] = {}

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        if id(original) not in self.returns or updated.value is None:
            return updated
        call = cst.parse_expression(f'{self.memo}.setdefault("{self.key}", None)')
        assert isinstance(call, cst.Call)
        value = call.with_changes(
            args=[call.args[0], call.args[1].with_changes(value=updated.value)]
        )
        return updated.with_changes(value=value)

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        if original is not self.function or not isinstance(updated.body, cst.IndentedBlock):
            return updated
        p, key, memo = self.parameter, self.key, self.memo
        head = [
            cst.parse_statement(
                f'{memo} = getattr({p}, "__dict__", {{}})  # kept on {p}: its queries run once '
                "for it\n"
            ),
            cst.parse_statement(f'if "{key}" in {memo}:\n    return {memo}["{key}"]\n'),
        ]
        body = list(updated.body.body)
        start = 1 if body and _is_docstring(body[0]) else 0
        return updated.with_changes(
            body=updated.body.with_changes(body=[*body[:start], *head, *body[start:]])
        )


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )

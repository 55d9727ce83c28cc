"""A queryset chain in libcst terms: its calls, where new calls go, and the rewrite that adds them
in the chain's own style (a multi-line chain gets its new calls on lines of their own)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from perftoolkit.core.fix.calls import QuerysetCall
from perftoolkit.core.fix.merge import Arg, Merged

# Calls that end a chain with something else than rows to eager-load: new calls go before them.
TERMINAL = frozenset(
    {
        "aggregate",
        "contains",
        "count",
        "earliest",
        "exists",
        "explain",
        "first",
        "get",
        "in_bulk",
        "iterator",
        "last",
        "latest",
    }
)
MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_FLATTENING = frozenset({"values", "values_list"})


@dataclass
class ChainView:
    """One queryset expression: `node` is the whole chain, `calls` its queryset calls up to the
    insertion point `insert_at`, `model` the class name of `Model.objects` when it starts there."""

    node: cst.BaseExpression
    insert_at: cst.BaseExpression
    calls: list[cst.Call] = field(default_factory=list)
    model: str | None = None
    flattened: bool = False  # values()/values_list(): eager loads cannot reach the rows
    empty: bool = False  # .none()
    dot: cst.Dot = field(default_factory=cst.Dot)

    def queryset_calls(self, module: cst.Module) -> list[QuerysetCall]:
        return [
            QuerysetCall(_method(c), tuple(arg_text(module, a) for a in c.args)) for c in self.calls
        ]


def read_chain(node: cst.BaseExpression) -> ChainView:
    links: list[cst.BaseExpression] = []
    current: cst.BaseExpression = node
    while True:
        if isinstance(current, cst.Subscript):
            links.append(current)
            current = current.value
        elif isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
            links.append(current)
            current = current.func.value
        elif isinstance(current, cst.Attribute):
            links.append(current)
            current = current.value
        else:
            break
    base = current
    links.reverse()
    end = len(links) - 1
    while end >= 0 and _terminal(links[end]):
        end -= 1
    insert_at = links[end] if end >= 0 else base
    view = ChainView(node=node, insert_at=insert_at)
    view.calls = [link for link in links[: end + 1] if isinstance(link, cst.Call)]
    view.model = _model_name(base, links)
    methods = [_method(link) for link in links if isinstance(link, cst.Call)]
    view.flattened = any(m in _FLATTENING for m in methods)
    view.empty = bool(methods) and methods[-1] == "none"
    for link in links:
        dot = _dot(link)
        if dot is not None and _multiline(dot.whitespace_before):
            view.dot = dot
    return view


def _model_name(base: cst.BaseExpression, links: list[cst.BaseExpression]) -> str | None:
    """`Book` of `Book.objects…` and of `models.Book.objects…` (a model reached through its
    module)."""
    if not isinstance(base, cst.Name):
        return None
    name = base.value
    for index, link in enumerate(links):
        if not isinstance(link, cst.Attribute):
            return None
        if link.attr.value in MANAGERS:
            return name if index == 0 or name[:1].isupper() else None
        name = link.attr.value
    return None


def is_chain(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Call | cst.Attribute | cst.Subscript | cst.Name)


def _method(call: cst.Call) -> str:
    func = call.func
    return func.attr.value if isinstance(func, cst.Attribute) else ""


def _terminal(link: cst.BaseExpression) -> bool:
    if isinstance(link, cst.Subscript):
        return True
    return isinstance(link, cst.Call) and _method(link) in TERMINAL


def _dot(link: cst.BaseExpression) -> cst.Dot | None:
    func = link.func if isinstance(link, cst.Call) else link
    if isinstance(func, cst.Attribute) and isinstance(func.dot, cst.Dot):
        return func.dot
    return None


def _multiline(whitespace: Any) -> bool:
    return isinstance(whitespace, cst.ParenthesizedWhitespace)


def arg_text(module: cst.Module, arg: cst.Arg) -> str:
    value = module.code_for_node(arg.value)
    if arg.keyword is not None:
        return f"{arg.keyword.value}={value}"
    return f"{arg.star}{value}"


def parse_args(texts: Sequence[str]) -> list[cst.Arg]:
    call = cst.parse_expression("_(" + ", ".join(texts) + ")")
    assert isinstance(call, cst.Call)
    return [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in call.args]


class ChainRewriter(cst.CSTTransformer):
    """Applies merges: new arguments for existing calls, new calls after an insertion point."""

    def __init__(self) -> None:
        super().__init__()
        self._args: dict[int, tuple[cst.Call, tuple[Arg, ...], list[str]]] = {}
        self._inserts: dict[int, tuple[list[QuerysetCall], cst.Dot]] = {}

    def add(self, view: ChainView, merged: Merged, module: cst.Module) -> None:
        for index, args in merged.changed.items():
            call = view.calls[index]
            texts = [arg_text(module, a) for a in call.args]
            self._args[id(call)] = (call, args, texts)
        if merged.appended:
            calls, _ = self._inserts.setdefault(id(view.insert_at), ([], view.dot))
            calls.extend(merged.appended)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        updated = super().on_leave(original_node, updated_node)
        key = id(original_node)
        if key in self._args and isinstance(updated, cst.Call):
            _, args, _ = self._args[key]
            updated = updated.with_changes(args=_rebuild_args(updated, args))
        if key in self._inserts and isinstance(updated, cst.BaseExpression):
            calls, dot = self._inserts[key]
            updated = _wrap(updated, calls, dot)
        return updated


def _wrap(
    node: cst.BaseExpression, calls: Sequence[QuerysetCall], dot: cst.Dot
) -> cst.BaseExpression:
    # The chain's own parentheses (a multi-line chain) close after the new calls.
    lpar, rpar = list(node.lpar), list(node.rpar)
    node = node.with_changes(lpar=[], rpar=[])
    if not isinstance(node, cst.Name | cst.Attribute | cst.Call | cst.Subscript):
        node = node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    first_dot = dot
    closing = rpar[-1].whitespace_before if rpar else None
    if _multiline(dot.whitespace_before) and _multiline(closing):
        # A comment after the chain's last line stays on that line, not after the new call.
        assert isinstance(closing, cst.ParenthesizedWhitespace)
        ws = dot.whitespace_before
        assert isinstance(ws, cst.ParenthesizedWhitespace)
        first_dot = dot.with_changes(
            whitespace_before=ws.with_changes(first_line=closing.first_line)
        )
        rpar[-1] = rpar[-1].with_changes(
            whitespace_before=closing.with_changes(first_line=ws.first_line)
        )
    for index, call in enumerate(calls):
        node = cst.Call(
            func=cst.Attribute(
                value=node, attr=cst.Name(call.method), dot=first_dot if index == 0 else dot
            ),
            args=parse_args(call.args),
        )
    return node.with_changes(lpar=lpar, rpar=rpar)


def _rebuild_args(call: cst.Call, args: Sequence[Arg]) -> list[cst.Arg]:
    original = list(call.args)
    fresh = iter(parse_args([a for a in args if isinstance(a, str)]))
    items = [original[a] if isinstance(a, int) else next(fresh) for a in args]
    return restyle(items, original, call.whitespace_before_args)


def restyle(items: list[Any], original: Sequence[Any], opening: Any) -> list[Any]:
    # items: cst.Arg or cst.ImportAlias, both with a `comma`
    """Commas for a rewritten list of arguments (or imported names) in the original's style: one
    per line stays one per line, a trailing comma stays, a one-line list stays on one line."""
    if not items:
        return items
    if len(original) >= 2 and isinstance(original[0].comma, cst.Comma):
        between: cst.Comma = original[0].comma
    elif _multiline(opening):
        between = cst.Comma(whitespace_after=opening)
    else:
        between = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    trailing = original[-1].comma if original else cst.MaybeSentinel.DEFAULT
    closing = (
        original[-1].whitespace_after_arg
        if original and isinstance(original[-1], cst.Arg)
        else None
    )
    out: list[Any] = []
    for position, item in enumerate(items):
        last = position == len(items) - 1
        changes: dict[str, Any] = {"comma": trailing if last else between}
        if isinstance(item, cst.Arg) and closing is not None:
            changes["whitespace_after_arg"] = closing if last else cst.SimpleWhitespace("")
        out.append(item.with_changes(**changes))
    return out

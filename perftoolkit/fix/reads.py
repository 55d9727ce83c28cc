"""The per-row read an annotation replaces: `course.enrollments.count()` at the finding's own line
becomes `(course.student_count if hasattr(course, "student_count") else course.enrollments.count())`.

An annotation on the rows' queryset runs no query by itself: the code that counts per row must
read it. The rewritten read takes the annotation when the row carries it and counts as before
when it does not (the same method called on rows another queryset built), so nothing else changes.
Only a count or an existence test of one relation of a row named plainly (`self`, `obj`,
`self.object`) is rewritten; anything else is left to the reader, with the reason.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from perftoolkit.core.fix.calls import keyword_of, parse_fix
from perftoolkit.fix.locate import Unplaceable

_READS = ("count", "exists")


def annotation_read(code: str, *, exists: bool) -> tuple[str, str] | None:
    """The annotation a fix adds and how a row's value is read from it: (name, "count" |
    "exists" | "count>0"), `exists` when the per-row code tests existence; None for a fix that is
    not one annotation of a count or an existence."""
    calls = parse_fix(code)
    # `.annotate(…).order_by(…)`: the order_by keeps the rows' order, which a model's
    # Meta.ordering no longer gives a grouped query
    if (
        not calls
        or calls[0].method != "annotate"
        or len(calls[0].args) != 1
        or any(c.method != "order_by" for c in calls[1:])
    ):
        return None
    name, value = keyword_of(calls[0].args[0])
    if name is None:
        return None
    if value.startswith("Exists("):
        return name, "exists"
    if value.startswith("Count("):
        return name, "count>0" if exists else "count"
    return None


def rewrite_read(source: str, line: int, field: str, name: str, how: str) -> str:
    """The module with the `.count()` / `.exists()` of `owner.field…` on `line` reading the
    annotation `name` when the row has it. Raises Unplaceable when the line holds no such call,
    or several, or its row is not named plainly."""
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except cst.ParserSyntaxError as exc:
        raise Unplaceable(
            f"the file of the per-row read cannot be parsed ({exc.message})"
        ) from None
    positions = wrapper.resolve(PositionProvider)
    found: list[tuple[cst.Call, cst.BaseExpression]] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            where = positions[node]
            if not (
                isinstance(func, cst.Attribute)
                and func.attr.value in _READS
                and where.start.line <= line <= where.end.line
            ):
                return
            owner = _owner(func.value, field)
            if owner is not None:
                found.append((node, owner))

    wrapper.module.visit(Finder())
    if len(found) != 1:
        raise Unplaceable(
            f"the per-row read is not one .count() or .exists() of {field} on its line, so the "
            "annotation cannot replace it"
        )
    [(call, owner)] = found
    module = wrapper.module
    if not _plain(owner):
        raise Unplaceable(
            f"the row whose {field} is counted is not named plainly "
            f"({module.code_for_node(owner)}), so its annotation cannot be read there"
        )
    row = module.code_for_node(owner)
    value = f"{row}.{name}" if how != "count>0" else f"{row}.{name} > 0"
    original = module.code_for_node(call)
    replacement = cst.parse_expression(f'({value} if hasattr({row}, "{name}") else {original})')

    class Rewriter(cst.CSTTransformer):
        def leave_Call(self, before: cst.Call, after: cst.Call) -> cst.BaseExpression:
            return replacement if before is call else after

    return module.visit(Rewriter()).code


def _owner(receiver: cst.BaseExpression, field: str) -> cst.BaseExpression | None:
    """`course` in `course.enrollments.filter(…).count()`: what `.field` is read on."""
    node = receiver
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            node = node.func.value
        elif isinstance(node, cst.Attribute):
            if node.attr.value == field:
                return node.value
            node = node.value
        else:
            return None


def _plain(node: cst.BaseExpression) -> bool:
    """A name or attributes of one (`self`, `self.object`): reading it twice reads the same row."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)

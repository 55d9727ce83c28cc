"""A name the per-row code took from the request, written the way the origin reaches it.

A serializer method reads the user from `self.context["request"]`; the view whose queryset the
fix goes on reads the same request as `self.request` (or a function view's `request`). A user in
a filter is written with `.pk`, so an anonymous request filters on NULL (no row) instead of
failing on an AnonymousUser: the per-row code could not have run for one anyway.

>>> request_attribute('self.context["request"].user')
'user'
>>> request_attribute("request.user.profile")
'user.profile'
>>> request_attribute("self.get_user()") is None
True
>>> at_origin("user", "self.request")
'self.request.user.pk'
"""

from __future__ import annotations

import ast
import difflib
import re

_LINE_END = re.compile(r"\r\n|\r|\n")


def request_attribute(expression: str) -> str | None:
    """The attributes read from the request in `expression`, or None when it is not that."""
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return None
    attributes: list[str] = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    if not attributes:
        return None
    attributes.reverse()
    if _is_request(node):
        return ".".join(attributes)
    if isinstance(node, ast.Name) and node.id == "self" and attributes[0] == "request":
        return ".".join(attributes[1:]) or None
    return None


def _is_request(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "request"
    context = None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        context, key = node.value, node.slice.value
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        context, key = node.func.value, node.args[0].value
    return (
        context is not None
        and key == "request"
        and isinstance(context, ast.Attribute)
        and context.attr == "context"
    )


def at_origin(attribute: str, request: str) -> str:
    text = f"{request}.{attribute}"
    return f"{text}.pk" if attribute.split(".")[-1] == "user" else text


def map_line(original: str, current: str, line: int) -> int | None:
    """Where line `line` of `original` is in `current` (an edited copy); None if it changed.

    >>> map_line("a\\nb\\nc\\n", "x\\na\\nb\\nc\\n", 2)
    3
    >>> map_line("a\\r\\nb\\r\\n", "x\\r\\na\\r\\nb\\r\\n", 2)
    3
    >>> map_line("\\x0c\\na\\nb\\n", "\\x0c\\na\\nX\\nb\\n", 3)  # a form feed ends no line
    4
    """
    matcher = difflib.SequenceMatcher(
        a=python_lines(original), b=python_lines(current), autojunk=False
    )
    index = line - 1
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if a0 <= index < a1:
            if tag == "equal":
                return b0 + (index - a0) + 1
            return b0 + 1 if b1 > b0 else None
    return None


def python_lines(text: str) -> list[str]:
    r"""The lines of `text` as Python numbers them, without their endings: "\r\n", "\r" or "\n"
    ends one; a form feed or U+2028 does not, though `str.splitlines` cuts there.

    >>> python_lines("a\r\nb\x0cc\rd\n")
    ['a', 'b\x0cc', 'd']
    """
    lines = _LINE_END.split(text)
    return lines[:-1] if lines[-1] == "" else lines

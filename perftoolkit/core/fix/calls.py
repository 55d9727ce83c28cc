"""A fix's code read as queryset method calls, each argument kept as its source text.

>>> parse_fix('.select_related("course__instructor").prefetch_related("tags")')
(QuerysetCall(method='select_related', args=('"course__instructor"',)), QuerysetCall(method='prefetch_related', args=('"tags"',)))
>>> parse_fix(".annotate(n=Count(\\"x\\"))")
(QuerysetCall(method='annotate', args=('n=Count("x")',)),)
>>> parse_fix("compute the result once") is None
True
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass

# The methods a fix adds to a queryset (order_by restates Meta.ordering after a GROUP BY).
FIX_METHODS = frozenset({"select_related", "prefetch_related", "annotate", "order_by"})
# What `from django.db.models import …` provides to a fix.
ORM_NAMES = frozenset(
    {
        "Avg",
        "Count",
        "Exists",
        "F",
        "Max",
        "Min",
        "OuterRef",
        "Prefetch",
        "Q",
        "StdDev",
        "Subquery",
        "Sum",
        "Variance",
    }
)


@dataclass(frozen=True, slots=True)
class QuerysetCall:
    """`.method(arg, …)`: each argument as source text, a keyword one as `name=value`."""

    method: str
    args: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        return f".{self.method}({', '.join(self.args)})"


def parse_fix(code: str) -> tuple[QuerysetCall, ...] | None:
    """The calls of a fix like `.select_related("a").annotate(n=Count("b"))`; None when the code
    is not a chain of queryset calls a fix makes (a sentence, a placeholder, a template tag)."""
    text = code.strip()
    if not text.startswith("."):
        return None
    try:
        tree = ast.parse("_" + text, mode="eval")
    except SyntaxError:
        return None
    calls = chain_calls(tree.body, text="_" + text)
    if calls is None:
        return None
    base, found = calls
    if base != "_" or not found or any(c.method not in FIX_METHODS for c in found):
        return None
    return tuple(found)


def chain_calls(node: ast.expr, *, text: str) -> tuple[str, list[QuerysetCall]] | None:
    """`Model.objects.filter(a).order_by(b)` → ("Model.objects", [filter, order_by]); None when a
    link of the chain is not a method call or an attribute (a subscript, a call of a name)."""
    calls: list[QuerysetCall] = []
    current = node
    while isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
        args = [_segment(text, a) for a in current.args]
        args += [
            f"{k.arg}={_segment(text, k.value)}" if k.arg else f"**{_segment(text, k.value)}"
            for k in current.keywords
        ]
        calls.append(QuerysetCall(current.func.attr, tuple(args)))
        current = current.func.value
    if isinstance(current, ast.Call):
        return None
    calls.reverse()
    return _segment(text, current), calls


def parse_queryset(text: str) -> tuple[str, list[QuerysetCall]] | None:
    """A queryset written in a fix (`Section.objects.annotate(…)`): its base and its calls."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return None
    return chain_calls(tree.body, text=text.strip())


def free_names(code: str) -> tuple[frozenset[str], frozenset[str]]:
    """The names a fix's code needs where it is written: (models used as `Name.objects`, every
    other name that is not one of Django's ORM expressions).

    >>> free_names('.annotate(e=Exists(Enrollment.objects.filter(user=user, course=OuterRef("pk"))))')
    (frozenset({'Enrollment'}), frozenset({'user'}))
    """
    try:
        tree = ast.parse("_" + code.strip(), mode="eval")
    except SyntaxError:
        return frozenset(), frozenset()
    models: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "objects"
            and isinstance(node.value, ast.Name)
        ):
            models.add(node.value.id)
        elif isinstance(node, ast.Name) and node.id != "_":
            names.add(node.id)
    return frozenset(models), frozenset(names - models - ORM_NAMES)


def orm_names(code: str) -> frozenset[str]:
    """The ORM expressions a fix's code uses (`Prefetch`, `Count` …): what it must import."""
    try:
        tree = ast.parse("_" + code.strip(), mode="eval")
    except SyntaxError:
        return frozenset()
    return frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in ORM_NAMES)


def _segment(text: str, node: ast.AST) -> str:
    return ast.get_source_segment(text, node) or ast.unparse(node)


def substitute(code: str, names: Mapping[str, str]) -> str:
    """`code` with each free name in `names` replaced by its text (a name the fix took from the
    per-row code, written the way the origin reaches the same value).

    >>> substitute('.annotate(e=Exists(E.objects.filter(user=user)))', {"user": "self.request.user.pk"})
    '.annotate(e=Exists(E.objects.filter(user=self.request.user.pk)))'
    """
    text = "_" + code.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return code
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    spans = sorted(
        (
            (
                offsets[n.lineno - 1] + n.col_offset,
                offsets[n.lineno - 1] + n.col_offset + len(n.id),
                n.id,
            )
            for n in ast.walk(tree)
            if isinstance(n, ast.Name) and n.id in names and isinstance(n.ctx, ast.Load)
        ),
        reverse=True,
    )
    for start, end, name in spans:
        text = text[:start] + names[name] + text[end:]
    return text[1:]


_KEYWORD = re.compile(r"\s*([A-Za-z_]\w*)\s*=(?!=)")


def keyword_of(text: str) -> tuple[str | None, str]:
    """A call argument's keyword and value: `n=Count("x")` → ("n", 'Count("x")'); a positional
    argument → (None, its text), whatever `=` it holds inside (`Prefetch("x", queryset=…)`)."""
    match = _KEYWORD.match(text)
    if match is None:
        return None, text.strip()
    return match.group(1), text[match.end() :].strip()

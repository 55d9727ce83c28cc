"""How a fix's calls join the calls a queryset already makes.

A new path goes into the existing `select_related` / `prefetch_related` / `annotate` call when
there is one (a path already loaded, or implied by a longer one, is not added twice; a shorter
one is replaced by the longer); two `Prefetch` objects of one relation merge their querysets; a
string lookup the `Prefetch` replaces is dropped, and a `Prefetch` goes before the string lookups
that run through it (Django refuses them in the other order). Two aggregates over different
multi-valued relations would multiply each other through the joins: `Count` then gets
`distinct=True`, and a `Sum` or `Avg` is refused.

>>> existing = [QuerysetCall("filter", ("published=True",)), QuerysetCall("select_related", ('"category"',))]
>>> merged = merge_calls(existing, [QuerysetCall("select_related", ('"instructor__profile"',))])
>>> merged.changed, merged.appended
({1: (0, '"instructor__profile"')}, ())
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field

from perftoolkit.core.fix.calls import QuerysetCall, keyword_of, parse_queryset

# An argument of a call after the merge: an int keeps the existing argument at that index as
# written; a string is new (or rewritten) source text.
Arg = int | str
_MULTIPLYING = ("Count", "Sum", "Avg", "StdDev", "Variance")
_ROW_CHANGING = ("filter", "exclude", "distinct", "union", "intersection", "difference")


class MergeRefused(Exception):
    """The fix cannot join these calls without changing what the queryset returns."""


@dataclass(frozen=True, slots=True)
class Merged:
    """`changed`: the new arguments of existing calls, by their index in the chain; `appended`:
    calls to add after them. Nothing in either: the queryset already does what the fix asks."""

    changed: dict[int, tuple[Arg, ...]] = field(default_factory=dict)
    appended: tuple[QuerysetCall, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changed and not self.appended


@dataclass
class _Call:
    method: str
    original: tuple[str, ...]
    args: list[Arg]
    index: int | None  # in the existing chain; None for a call the merge appends

    def texts(self) -> list[str]:
        return [self.original[a] if isinstance(a, int) else a for a in self.args]


def merge_calls(existing: Sequence[QuerysetCall], new: Sequence[QuerysetCall]) -> Merged:
    """Raises MergeRefused with the reason when the fix cannot be merged."""
    if any(c.method in ("values", "values_list") for c in existing):
        raise MergeRefused(
            "the rows are read with values()/values_list(), which eager loads do not reach"
        )
    calls = [_Call(c.method, c.args, list(range(len(c.args))), i) for i, c in enumerate(existing)]
    for call in new:
        if call.method == "select_related":
            for arg in call.args:
                _add_select(calls, arg)
        elif call.method == "prefetch_related":
            for arg in call.args:
                _add_prefetch(calls, arg)
        elif call.method == "annotate":
            _add_annotations(calls, call.args)
        elif call.method == "order_by":
            if not any(c.method == "order_by" for c in calls):
                calls.append(_Call("order_by", call.args, list(call.args), None))
        else:
            raise MergeRefused(f".{call.method}() is not a call perf_fix adds")
    _keep_aggregates_apart(calls)
    changed = {
        c.index: tuple(c.args)
        for c in calls
        if c.index is not None and c.args != list(range(len(c.original)))
    }
    appended = tuple(QuerysetCall(c.method, tuple(c.texts())) for c in calls if c.index is None)
    return Merged(changed, appended)


def merge_into_text(queryset: str, new: Sequence[QuerysetCall]) -> str:
    """A queryset written as text (`Section.objects.annotate(…)`) with the fix's calls merged."""
    parsed = parse_queryset(queryset)
    if parsed is None:
        raise MergeRefused(f"{queryset} is not a queryset chain perf_fix can read")
    base, existing = parsed
    merged = merge_calls(existing, new)
    out = base
    for index, call in enumerate(existing):
        args = merged.changed.get(index, tuple(range(len(call.args))))
        out += QuerysetCall(
            call.method, tuple(call.args[a] if isinstance(a, int) else a for a in args)
        ).code
    return out + "".join(c.code for c in merged.appended)


def _literal(text: str) -> str | None:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _covers(existing: str, path: str) -> bool:
    """`a__b` loads `a` too."""
    return existing == path or existing.startswith(path + "__")


def _add_select(calls: list[_Call], arg: str) -> None:
    path = _literal(arg)
    selects = [c for c in calls if c.method == "select_related"]
    if any(not c.original and c.index is not None for c in selects):
        raise MergeRefused(
            "select_related() without fields already follows every non-null foreign key; name "
            "its fields to add another"
        )
    for call in selects:
        for position, text in enumerate(call.texts()):
            known = _literal(text)
            if known is None or path is None:
                continue
            if _covers(known, path):
                return
            if path.startswith(known + "__"):
                call.args[position] = arg
                return
    _append_arg(calls, "select_related", arg)


@dataclass(frozen=True, slots=True)
class _Lookup:
    lookup: str
    to_attr: str | None = None
    queryset: str | None = None
    is_prefetch: bool = False

    @property
    def prefetch_to(self) -> str:
        return self.to_attr or self.lookup


def _lookup(text: str) -> _Lookup | None:
    path = _literal(text)
    if path is not None:
        return _Lookup(path)
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Prefetch"
        and node.args
    ):
        return None
    lookup = _literal(ast.get_source_segment(text, node.args[0]) or "")
    if lookup is None:
        return None
    values = {k.arg: ast.get_source_segment(text, k.value) for k in node.keywords if k.arg}
    if len(node.args) > 1:
        values["queryset"] = ast.get_source_segment(text, node.args[1])
    if len(node.args) > 2:
        values["to_attr"] = ast.get_source_segment(text, node.args[2])
    to_attr = _literal(values["to_attr"] or "") if values.get("to_attr") else None
    return _Lookup(lookup, to_attr, values.get("queryset"), True)


def _add_prefetch(calls: list[_Call], arg: str) -> None:
    new = _lookup(arg)
    if new is None:
        raise MergeRefused(f"{arg} is not a prefetch lookup perf_fix can read")
    for call in [c for c in calls if c.method == "prefetch_related"]:
        for position, text in enumerate(call.texts()):
            known = _lookup(text)
            if known is None:
                continue
            if not new.is_prefetch:
                if known.prefetch_to == known.lookup and _covers(known.lookup, new.lookup):
                    return
                if not known.is_prefetch and new.lookup.startswith(known.lookup + "__"):
                    call.args[position] = arg
                    return
                continue
            if known.is_prefetch and known.prefetch_to == new.prefetch_to:
                call.args[position] = _merge_prefetches(known, new, text, arg)
                return
            if not known.is_prefetch and new.to_attr is None and known.lookup == new.lookup:
                if new.queryset and _filters(new.queryset):
                    raise MergeRefused(
                        f'prefetch_related("{known.lookup}") loads every row of {known.lookup}; '
                        "a filtered Prefetch of it would change what the rows hold"
                    )
                call.args[position] = arg
                return
            if not known.is_prefetch and known.lookup.startswith(new.prefetch_to + "__"):
                call.args.insert(position, arg)  # before the lookups that go through it
                return
    _append_arg(calls, "prefetch_related", arg)


def _filters(queryset: str) -> bool:
    parsed = parse_queryset(queryset)
    return parsed is None or any(c.method in _ROW_CHANGING for c in parsed[1])


def _merge_prefetches(known: _Lookup, new: _Lookup, known_text: str, new_text: str) -> str:
    if known_text == new_text or new.queryset is None:
        return known_text
    if known.queryset is None:
        raise MergeRefused(
            f'a Prefetch("{known.lookup}") without a queryset is there already; merge by hand'
        )
    parsed = parse_queryset(new.queryset)
    if parsed is None:
        raise MergeRefused(f"{new.queryset} is not a queryset chain perf_fix can read")
    base = parse_queryset(known.queryset)
    if base is None or base[0] != parsed[0]:
        raise MergeRefused(
            f'Prefetch("{known.lookup}") already has the queryset {known.queryset}, which '
            "perf_fix cannot read to merge into"
        )
    merged = merge_into_text(known.queryset, parsed[1])
    return known_text.replace(known.queryset, merged, 1)


def _add_annotations(calls: list[_Call], args: Sequence[str]) -> None:
    existing: dict[str, str] = {}
    for call in calls:
        if call.method in ("annotate", "alias"):
            for text in call.texts():
                known, value = keyword_of(text)
                if known is not None:
                    existing[known] = value
    for arg in args:
        name, value = keyword_of(arg)
        if name is not None and name in existing:
            if existing[name] == value:
                continue
            raise MergeRefused(f"the queryset already annotates {name} as {existing[name]}")
        _append_arg(calls, "annotate", arg)


def _append_arg(calls: list[_Call], method: str, arg: str) -> None:
    same = [c for c in calls if c.method == method]
    if same and (method != "annotate" or not _rows_change_after(calls, same[-1])):
        same[-1].args.append(arg)
    else:
        # An annotate after a filter() counts only the rows the filter kept: a new one goes
        # last, where it sees what the queryset returns.
        calls.append(_Call(method, (), [arg], None))


def _rows_change_after(calls: list[_Call], call: _Call) -> bool:
    later = calls[calls.index(call) + 1 :]
    return any(c.method in _ROW_CHANGING or c.method in ("annotate", "alias") for c in later)


def _keep_aggregates_apart(calls: list[_Call]) -> None:
    """Aggregates over different multi-valued relations multiply through the joins."""
    aggregates: list[tuple[_Call, int, str, ast.Call, str]] = []
    for call in calls:
        if call.method != "annotate":
            continue
        for position, text in enumerate(call.texts()):
            _, value = keyword_of(text)
            node = _aggregate(value)
            if node is not None:
                first = _literal(ast.unparse(node.args[0])) or ""
                aggregates.append((call, position, first.split("__")[0], node, text))
    groups = {group for _, _, group, _, _ in aggregates}
    if len(groups) < 2:
        return
    for call, position, group, node, text in aggregates:
        function = ast.unparse(node.func)
        distinct = any(k.arg == "distinct" for k in node.keywords)
        if function == "Count" and not distinct:
            name, value = keyword_of(text)
            counted = f"{value[:-1]}, distinct=True)"
            call.args[position] = f"{name}={counted}" if name else counted
        elif function != "Count":
            others = ", ".join(sorted(groups - {group}))
            raise MergeRefused(
                f"{function} over {group} beside aggregates over {others} would be multiplied by "
                "their joins; compute one of them in a Subquery"
            )


def _aggregate(value: str) -> ast.Call | None:
    try:
        node = ast.parse(value, mode="eval").body
    except SyntaxError:
        return None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _MULTIPLYING
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        return node
    return None

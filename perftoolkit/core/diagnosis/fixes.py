"""The exact code that removes an N+1, from the relation chain read per row.

Pure: works on `Relation` values and, when the per-row statement is project Python code, on its
source text (parsed with `ast`, never executed) so a fix repeats the user's own filters.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from perftoolkit.core.events import Relation
from perftoolkit.core.findings import Fix


@dataclass(frozen=True, slots=True)
class Step:
    """One attribute read on the way from the root rows: `field` on `model` (labels)."""

    model: str
    field: str
    many: bool  # reverse FK, M2M, generic relation: a prefetch, never a join
    generic: bool = False  # GenericForeignKey: prefetch only
    lookup: str = ""  # the name lookups use when it is not `field` (`comment` for `comment_set`)


@dataclass(frozen=True, slots=True)
class Chain:
    """What is read once per root row: the steps (already-eager ones first) and how the last is used."""

    root: str
    steps: tuple[Step, ...]
    last: Relation
    eager_prefix: int = 0  # how many leading steps an existing select/prefetch already loads
    source: str | None = None
    function: str = ""
    lookup: Relation | None = None  # for per-row queries no relation fired: the FK they filter on
    # Names `source` reads that its function binds: a fix placed elsewhere cannot use them.
    local_names: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """Accessor names: what select_related and prefetch_related take."""
        return "__".join(s.field for s in self.steps)

    @property
    def lookup_path(self) -> str:
        """Lookup names: what annotations, Q() and filters take."""
        return "__".join(s.lookup or s.field for s in self.steps)


def short(label: str) -> str:
    """`lms.CourseReview` → `CourseReview`."""
    return label.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class Calls:
    """The method calls after the relation in the user's statement, with that statement's text."""

    items: tuple[ast.Call, ...] = ()
    text: str = ""
    # False when the statement does not name the relation (`event.talks.count()` for
    # Event.submissions: a property's queryset; `reviews.count()` of a queryset built on an
    # earlier line): its filters are elsewhere
    named: bool = True

    def __iter__(self) -> Iterator[ast.Call]:
        return iter(self.items)

    def source(self, node: ast.AST) -> str:
        """The user's own text for a node (their quotes and spacing), else ast's rendering."""
        return ast.get_source_segment(self.text, node) or ast.unparse(node)


def usable(path: str) -> bool:
    """Whether every name of a path can be written in a lookup. A hidden reverse accessor (a
    related_name ending in "+", such as `Book_tags+` of an auto-created through model) cannot:
    select_related / prefetch_related / Count() naming it raise."""
    return all(name and not name.endswith("+") for name in path.split("__"))


class _Inexact(Exception):
    """The fix would need a value the source does not name: no code is better than a guess."""


def fix_for(chain: Chain) -> Fix | None:
    """The exact code to add, or None when it cannot be written out (the chain passes through a
    relation no lookup can name; a membership test's owner whose name the source does not show,
    an aggregate whose field it does not)."""
    if not (usable(chain.path) and usable(chain.lookup_path)):
        return None
    try:
        return _fix_for(chain)
    except _Inexact:
        return None


def _fix_for(chain: Chain) -> Fix:
    via = chain.last.via
    if via not in ("get", "all") and chain.source and _parse(chain.source) is None:
        # the statement cannot be read (a line of a longer one): its filters are unknown, and a
        # fix without them would count, test or load other rows
        raise _Inexact
    calls = _calls_after(
        chain.source, chain.last.field if chain.lookup is None else short(chain.last.target)
    )
    if chain.last.many and _unreadable_filters(calls):
        # `filter(Q(…) | Q(…))`, `exclude(…)`, `filter(**conditions)`: rows left out in a way the
        # fix cannot restate; without them it would count, test or load other rows
        raise _Inexact
    if via in ("count", "aggregate") and chain.last.filtered:
        # the related manager leaves rows out (`exclude(state="draft")`): Count or Sum over the
        # relation would take them in
        raise _Inexact
    if (
        via in ("count", "exists", "filter", "get_one")
        and not calls.named
        and not chain.last.constant
    ):
        # the rows counted are filtered where this statement does not show (a membership test
        # names the other side of the relation: its filter on the row is what it replaces)
        raise _Inexact
    if via == "count":
        return _annotate_count(chain, calls)
    if via == "exists":
        return _annotate_exists(chain, calls)
    if via == "aggregate":
        return _annotate_aggregate(chain, calls)
    extra = _filter_kwargs(calls, _lookup_keys(chain.lookup))
    if (
        via in ("filter", "get_one")
        or chain.last.prefetched
        or chain.last.ordering
        or (chain.lookup is not None and extra)
    ):
        return _prefetch_filtered(chain, calls)
    return _eager(chain)


def _eager(chain: Chain) -> Fix:
    steps = chain.steps
    first_many = next((i for i, s in enumerate(steps) if s.many or s.generic), None)
    path = chain.path
    if first_many is None:
        return Fix("select_related", f'.select_related("{path}")')
    if first_many == 0:
        return Fix("prefetch_related", f'.prefetch_related("{path}")')
    prefix = "__".join(s.field for s in steps[:first_many])
    return Fix(
        "prefetch_related",
        f'.select_related("{prefix}").prefetch_related("{path}")',
        note=f"{prefix} is joined; the rest is prefetched.",
    )


# Django's and DRF's own `get_` hooks: a count made in one is on the way to something else (a
# view's context), and several in one hook would all take its name.
_HOOKS = frozenset(
    {
        "get_context_data",
        "get_queryset",
        "get_object",
        "get_form",
        "get_form_kwargs",
        "get_form_class",
        "get_initial",
        "get_success_url",
        "get_template_names",
        "get_redirect_url",
        "get_serializer",
        "get_serializer_class",
        "get_serializer_context",
        "get_paginated_response",
        "get_extra_context",
        "get_fields",
    }
)


def _name(chain: Chain, default: str) -> str:
    """A DRF SerializerMethodField's name (`get_total_revenue` → `total_revenue`: the serializer
    may read the annotation under it), else `default`; never a framework hook's."""
    function = chain.function
    method = function.rsplit(".", 1)[-1]
    if (
        method.startswith("get_")
        and method.isidentifier()
        and len(method) > 4
        and method not in _HOOKS
    ):
        return method[4:]
    return default


def _unreadable_filters(calls: Calls) -> bool:
    """Whether the statement leaves rows out other than by `filter(name=value)` / `get(…)`."""
    for call in calls:
        if not isinstance(call.func, ast.Attribute):
            continue
        if call.func.attr == "exclude":
            return True
        if call.func.attr in ("filter", "get") and (
            call.args or any(k.arg is None for k in call.keywords)
        ):
            return True
    return False


def _filter_kwargs(calls: Calls, drop: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    return [(str(k.arg), calls.source(k.value)) for k in _filter_keywords(calls, drop)]


def _filter_keywords(calls: Calls, drop: frozenset[str]) -> list[ast.keyword]:
    return [
        keyword
        for call in calls
        if isinstance(call.func, ast.Attribute) and call.func.attr in ("filter", "get")
        for keyword in call.keywords
        if keyword.arg and keyword.arg not in drop
    ]


def _row_kwargs(chain: Chain, calls: Calls) -> list[tuple[str, str]]:
    """The user's filters that stay in the fix. For a membership test the filter on the row
    (`pk=article.pk`) is what the annotation replaces; the set's owner becomes a filter instead."""
    drop = _lookup_keys(chain.lookup)
    if chain.last.constant:  # the filter on the row is what the annotation replaces
        drop |= {"pk", "id"}
    keywords = _filter_keywords(calls, drop)
    local = set(chain.local_names) - {"self"}  # a view's self is the view where its rows are, too
    if any(isinstance(n, ast.Name) and n.id in local for k in keywords for n in ast.walk(k.value)):
        # `filter(user__in=shared_users)`, `get(shift=shift)`: a value of the function that reads
        # each row, which the line where the rows are queried does not have
        raise _Inexact
    kwargs = [(str(k.arg), calls.source(k.value)) for k in keywords]
    if not chain.last.constant:
        return kwargs
    owner = _owner_text(calls.text)
    if owner is None:
        raise _Inexact
    return [("pk", f"{owner}.pk"), *kwargs]


def _owner_text(source: str) -> str | None:
    """`self` in `self.favorites.filter(pk=a.pk).exists()`: whose set a membership test reads."""
    parsed = _parse(source) if source else None
    if parsed is None:
        return None
    tree, text = parsed
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            inner = node.func.value
            while isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
                inner = inner.func.value
            if isinstance(inner, ast.Attribute):  # `owner.relation` before the first call
                return ast.get_source_segment(text, inner.value) or ast.unparse(inner.value)
    return None


def _membership_note(chain: Chain, calls: Calls, name: str) -> str:
    owner = _owner_text(calls.text) or f"the {short(chain.last.target)}"
    return (
        f"{owner} is the same {short(chain.last.target)} for every row: use it where the "
        f"{short(chain.root)} rows are queried, then read {name} on each row."
    )


def _leaf(chain: Chain) -> str:
    """The last relation's own name: `loans` of `book__loans` (an annotation's or attribute's
    name takes no lookup separator)."""
    return chain.steps[-1].field.rsplit("__", 1)[-1]


def _lookup_keys(lookup: Relation | None) -> frozenset[str]:
    """The source line's filters that are the relation itself: its key, named as the filtered
    model names it (`book` of `book__reviews`, the path back to a review that holds the book)."""
    if lookup is None or not lookup.related_query_name:
        return frozenset()
    keys: set[str] = set()
    name = lookup.related_query_name
    for key in {name, name.rsplit("__", 1)[0]}:
        keys |= {key, f"{key}_id", f"{key}__id", f"{key}__pk", f"{key}__in"}
    if lookup.kind == "generic_many":
        keys |= {"content_type", "content_type_id", "content_type__pk"}
    return frozenset(keys)


def _q(path: str, kwargs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{path}__{k}={v}" for k, v in kwargs)


def _annotate_count(chain: Chain, calls: Calls) -> Fix:
    kwargs = _row_kwargs(chain, calls)
    name = _name(chain, f"{_leaf(chain)}_count")
    path = chain.lookup_path
    filtered = f", filter=Q({_q(path, kwargs)})" if kwargs else ""
    return Fix(
        "annotate",
        f'.annotate({name}=Count("{path}"{filtered}))',
        note=f"then read {name} on each row instead of counting; add distinct=True when combined with another Count.",
    )


def _annotate_exists(chain: Chain, calls: Calls) -> Fix:
    name = _name(chain, f"has_{_leaf(chain)}")
    related = chain.lookup or chain.last
    rqn = related.related_query_name
    kwargs = _row_kwargs(chain, calls)
    steps = chain.steps
    # Rows reached through forward relations (`review.book.tags.exists()`) name the last row's
    # key from the root: OuterRef("book") instead of OuterRef("pk"). A generic relation's rows
    # are the row's only with its content type as well: its own join (the Count below) adds that
    # condition, a filter on object_id alone would match other models' rows.
    joined = all(not s.many and not s.generic for s in steps[:-1])
    if rqn and joined and not steps[-1].generic and related.kind != "generic_many":
        outer = "__".join(s.field for s in steps[:-1]) or "pk"
        extra = "".join(f", {k}={v}" for k, v in kwargs)
        target = short(chain.last.target)
        note = (
            _membership_note(chain, calls, name)
            if chain.last.constant
            else f"then read {name} on each row."
        )
        return Fix(
            "annotate",
            f'.annotate({name}=Exists({target}.objects.filter({rqn}=OuterRef("{outer}"){extra})))',
            note=note,
        )
    filtered = f", filter=Q({_q(chain.lookup_path, kwargs)})" if kwargs else ""
    return Fix(
        "annotate",
        f'.annotate({name}_count=Count("{chain.lookup_path}"{filtered}))',
        note=f"then test {name}_count > 0 on each row.",
    )


def _annotate_aggregate(chain: Chain, calls: Calls) -> Fix:
    kwargs = _row_kwargs(chain, calls)
    path = chain.lookup_path
    filtered = f", filter=Q({_q(path, kwargs)})" if kwargs else ""
    parts: list[str] = []
    for call in calls:
        if isinstance(call.func, ast.Attribute) and call.func.attr == "aggregate":
            for keyword in call.keywords:
                parts.append(f"{keyword.arg}={_prefixed(calls, keyword.value, path, filtered)}")
            for arg in call.args:
                alias = _default_alias(arg)
                parts.append(
                    f"{alias or _leaf(chain) + '_total'}={_prefixed(calls, arg, path, filtered)}"
                )
    named = _name(chain, "")
    if named and len(parts) == 1:  # a SerializerMethodField: the annotation takes its name
        parts = [f"{named}={parts[0].split('=', 1)[1]}"]
    if not parts:
        raise _Inexact
    return Fix(
        "annotate", f".annotate({', '.join(parts)})", note="then read the annotations on each row."
    )


def _prefixed(calls: Calls, expr: ast.expr, path: str, filtered: str) -> str:
    """`Sum("amount")` → `Sum("enrollments__amount", filter=…)`."""
    if isinstance(expr, ast.Call) and expr.args and isinstance(expr.args[0], ast.Constant):
        func = _function_name(expr.func) if _is_aggregate(expr.func) else calls.source(expr.func)
        column = str(expr.args[0].value)
        rest = [calls.source(a) for a in expr.args[1:]] + [
            f"{k.arg}={calls.source(k.value)}" for k in expr.keywords if k.arg
        ]
        extra = "".join(f", {r}" for r in rest)
        return f'{func}("{path}__{column}"{extra}{filtered})'
    return calls.source(expr)


def _default_alias(expr: ast.expr) -> str | None:
    """Django's key for `aggregate(Sum("price"))`, `price__sum` (also for `models.Sum`)."""
    if isinstance(expr, ast.Call) and expr.args and isinstance(expr.args[0], ast.Constant):
        alias = f"{expr.args[0].value!s}__{_function_name(expr.func).lower()}"
        return alias if alias.isidentifier() else None
    return None


_AGGREGATES = frozenset({"Count", "Sum", "Avg", "Min", "Max", "StdDev", "Variance"})


def _function_name(func: ast.expr) -> str:
    """`Sum` for `Sum` and for `models.Sum`."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return ast.unparse(func)


def _is_aggregate(func: ast.expr) -> bool:
    """One of Django's aggregates, however the module names it: the fix names it bare (perf_fix
    imports it from django.db.models)."""
    return _function_name(func) in _AGGREGATES


def repr_str(text: str) -> str:
    """A string literal in the style of the fixes: double quotes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _prefetch_filtered(chain: Chain, calls: Calls) -> Fix:
    target = short(chain.last.target)
    path = chain.path
    kwargs = _row_kwargs(chain, calls)
    methods = [c.func.attr for c in calls if isinstance(c.func, ast.Attribute)]
    # One row read per row (`first()`, `latest()`…): the prefetch is sliced to it, not every row
    # of the set loaded, in the order the statement ran (`last()` and `latest()` reverse the
    # line's order_by).
    single = chain.last.via == "get_one" and not _SINGLE_ROW.isdisjoint(methods)
    ordering = [c for c in calls if isinstance(c.func, ast.Attribute) and c.func.attr == "order_by"]
    if single and chain.last.ordering:
        ordering = []
    queryset = f"{target}.objects"
    if kwargs:
        queryset += ".filter(" + ", ".join(f"{k}={v}" for k, v in kwargs) + ")"
    for call in ordering:
        queryset += f".order_by({', '.join(calls.source(a) for a in call.args)})"
    if not ordering and chain.last.ordering:  # ordered where the source line does not show it
        queryset += f".order_by({', '.join(repr_str(o) for o in chain.last.ordering)})"
    if queryset == f"{target}.objects":
        queryset += ".all()"
    # Django slices a prefetch of a reverse foreign key or a many-to-many (a window function per
    # row); a generic relation's manager filters the sliced queryset, which raises.
    sliced = single and chain.last.kind in ("reverse_many", "many")
    if sliced:
        queryset += "[:1]"
    field = _leaf(chain)
    default = f"{'filtered' if kwargs else 'prefetched'}_{field}"
    to_attr = _name(chain, default)
    if to_attr in {s.field for s in chain.steps}:  # to_attr may not shadow the relation itself
        to_attr = default
    note = f"then iterate row.{to_attr} (a list) instead of querying per row."
    if single:
        note = (
            f"then read row.{to_attr}[0] (the list is empty where the row has none) instead of "
            "querying per row."
        )
    if single and not sliced:
        note += (
            " A generic relation's prefetch cannot be sliced: it loads every row of each set; "
            "where sets are large, annotate the rows with a Subquery of the one row instead."
        )
    if chain.last.ordering and not chain.last.prefetched:
        note = (
            f"the per-row .order_by() re-queries even a prefetched {field}, so the order goes "
            "into the prefetch; " + note
        )
    if chain.last.prefetched:
        note = (
            f'prefetch_related("{path}") is already there, but .{chain.last.via}() on the prefetched '
            f"manager runs a new query per row; prefetch the filtered rows instead and " + note
        )
    return Fix(
        "prefetch_related",
        f'.prefetch_related(Prefetch("{path}", queryset={queryset}, to_attr="{to_attr}"))',
        note=note,
    )


_ROW_CALLS = frozenset({"aggregate", "count", "exists", "filter", "first", "last", "get"})
# The calls that read one row of a set (its first in some order).
_SINGLE_ROW = frozenset({"first", "last", "latest", "earliest"})


def _calls_after(source: str | None, attribute: str) -> Calls:
    """The method calls chained after `.attribute` (or after `Name.objects`) in a statement."""
    if not source:
        return Calls()
    parsed = _parse(source)
    if parsed is None:
        return Calls()
    tree, text = parsed
    best: list[ast.Call] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        chain = _unwind(node)
        for index, (kind, name, _) in enumerate(chain):
            if kind == "attr" and name in (attribute, "objects"):
                calls = [
                    call for k, _, call in chain[index + 1 :] if k == "call" and call is not None
                ]
                if len(calls) > len(best):
                    best = calls
    if not best:  # `reviews.aggregate(...)` on a queryset built on an earlier line
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            calls = [call for k, _, call in _unwind(node) if k == "call" and call is not None]
            names = {c.func.attr for c in calls if isinstance(c.func, ast.Attribute)}
            if names & _ROW_CALLS and len(calls) > len(best):
                best = calls
        return Calls(tuple(best), text, named=False)
    return Calls(tuple(best), text)


def _unwind(node: ast.expr) -> list[tuple[str, str, ast.Call | None]]:
    """`a.b.filter(x).exists()` → [attr b, call filter, call exists] (innermost first)."""
    out: list[tuple[str, str, ast.Call | None]] = []
    current: ast.expr = node
    while True:
        if isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
            out.append(("call", current.func.attr, current))
            current = current.func.value
        elif isinstance(current, ast.Attribute):
            out.append(("attr", current.attr, None))
            current = current.value
        else:
            break
    out.reverse()
    return out


def quotes(source: str | None, attribute: str) -> bool:
    """Whether the statement `source` can be read for the calls after `.attribute` (a fix that
    repeats its filters needs them; a line that does not parse would lose them)."""
    return bool(_calls_after(source, attribute).items)


# A dict entry or a keyword argument on a line of its own: `"count": book.reviews.count(),`.
_ENTRY = re.compile(r"""^(?:"[^"]*"|'[^']*'|\w+)\s*[:=]\s*(?P<value>.+?),?$""")


def _parse(source: str) -> tuple[ast.AST, str] | None:
    text = source.strip().rstrip(":")
    candidates = [text, text.removeprefix("return ").removeprefix("yield ")]
    entry = _ENTRY.match(text.split("  #", 1)[0].strip())
    if entry is not None:
        candidates.append(entry.group("value"))
    if text.startswith(("if ", "elif ", "while ")):
        candidates.append(text.split(" ", 1)[1])
    if text.startswith("for ") and " in " in text:
        candidates.append(text.split(" in ", 1)[1])
    for candidate in candidates:
        try:
            return ast.parse(candidate), candidate
        except SyntaxError:
            continue
    return None


_GROUPING = ("Count(", "Sum(", "Avg(", "Min(", "Max(", "StdDev(", "Variance(")


def keep_ordering(fix: Fix, ordering: tuple[str, ...]) -> Fix:
    """An aggregate annotation adds a GROUP BY, and Django then ignores Meta.ordering: rows that
    relied on it would come back in another order. Restate it in the fix."""
    if fix.action != "annotate" or not any(g in fix.code for g in _GROUPING):
        return fix
    order = ", ".join(f'"{o}"' for o in ordering)
    note = f"the GROUP BY makes Django ignore Meta.ordering, so it is restated. {fix.note}".strip()
    return Fix(fix.action, f"{fix.code}.order_by({order})", note=note)


def nest_fix(fix: Fix, parent: Relation) -> Fix | None:
    """Move a fix for rows that are one object's related set, read whole (`course.sections.all()`,
    a nested serializer), into a prefetch of that set on the parent's queryset: `.annotate(n=Count("lessons"))` on sections becomes
    `.prefetch_related(Prefetch("sections", queryset=Section.objects.annotate(n=Count("lessons"))))`."""
    code = fix.code
    if not code.startswith("."):
        return fix
    if not usable(parent.field):
        return None
    simple = code.startswith('.prefetch_related("') and code.count("(") == 1
    if simple:
        inner = code[len('.prefetch_related("') : -2]
        return Fix(
            "prefetch_related", f'.prefetch_related("{parent.field}__{inner}")', note=fix.note
        )
    if code.startswith('.prefetch_related(Prefetch("'):
        inner = code[len('.prefetch_related(Prefetch("') :]
        return Fix(
            "prefetch_related",
            f'.prefetch_related(Prefetch("{parent.field}__{inner}',
            note=fix.note,
        )
    queryset = f"{short(parent.target)}.objects{code}"
    return Fix(
        "prefetch_related",
        f'.prefetch_related(Prefetch("{parent.field}", queryset={queryset}))',
        note=f"{fix.action} inside the prefetch of {parent.field}. {fix.note}".strip(),
    )

"""Where a query came from, as a developer edits it: the template line being rendered, the DRF
field declaration, the source text of a project line, and the line that built a queryset."""

from __future__ import annotations

import ast
import inspect
import linecache
import logging
import os
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from types import FrameType
from typing import Any

from django.db.models import Model

from perftoolkit.conf import settings_cache
from perftoolkit.core.events import CallSite, Choices
from perftoolkit.core.fix.context import request_attribute
from perftoolkit.middleware.capture.attribution import frame_local, label
from perftoolkit.middleware.capture.frames import (
    MAX_DEPTH,
    Kind,
    Walk,
    callsite_of,
    classify,
    relative_path,
)

logger = logging.getLogger("perftoolkit")


def template_site(walk: Walk) -> CallSite | None:
    """The template file and line of the innermost node being rendered."""
    node = frame_local(walk.template, "self")
    token = getattr(node, "token", None)
    origin = getattr(node, "origin", None)
    name = getattr(origin, "name", None)
    if token is None or not isinstance(name, str) or name.startswith("<"):
        return None
    contents = " ".join(str(getattr(token, "contents", "")).split())[:80]
    return CallSite(relative_path(name), int(getattr(token, "lineno", 0) or 0), contents)


def serializer_site(walk: Walk) -> CallSite | None:
    """The line declaring the DRF serializer field being rendered, when it is project code."""
    field = frame_local(walk.serializer, "field")
    parent = getattr(field, "parent", None)
    name = getattr(field, "field_name", None)
    if parent is None or not isinstance(name, str):
        return None
    serializer_class: Any = type(parent)
    return _declaration_site(serializer_class, name)


_FORMS_MODELS = os.path.join("django", "forms", "models.py")
_BOUND_FIELD = os.path.join("django", "forms", "boundfield.py")


def choices_of(frame: FrameType | None, found: Walk) -> Choices | None:
    """The field whose choices a query's rows are, when a form's select iterates them
    (ModelChoiceIterator, named by the BoundField that renders it) or a model field's
    `get_choices()` lists them (an admin list filter); looked for from `frame`, the query's
    caller, out to the project or handler frame the walk `found` stopped at."""
    if found.prefetch is not None:
        return None
    limit = found.depth if found.depth >= 0 else found.stop_depth
    if limit < 0:
        limit = MAX_DEPTH
    iterated = None  # the ModelChoiceField whose choices are being iterated
    depth = 0
    while frame is not None and depth <= limit:
        code = frame.f_code
        name = code.co_name
        if iterated is None:
            if name == "get_choices":
                field = frame.f_locals.get("self")
                model, field_name = getattr(field, "model", None), getattr(field, "name", None)
                if isinstance(field_name, str) and hasattr(model, "_meta"):
                    return Choices(field=field_name, model=label(model))
            elif name == "__iter__" and code.co_filename.endswith(_FORMS_MODELS):
                iterated = getattr(frame.f_locals.get("self"), "field", None)
                if iterated is None:
                    return None
        elif code.co_filename.endswith(_BOUND_FIELD):
            bound = frame.f_locals.get("self")
            form, field_name = getattr(bound, "form", None), getattr(bound, "name", None)
            if getattr(bound, "field", None) is iterated and isinstance(field_name, str):
                return _form_choices(type(form), field_name)
        frame = frame.f_back
        depth += 1
    return None


def _form_choices(form: type, field_name: str) -> Choices:
    meta_model = getattr(getattr(form, "_meta", None), "model", None)
    declared = field_name in getattr(form, "declared_fields", {})
    return Choices(
        field=field_name,
        form=form.__qualname__,
        model=label(meta_model) if meta_model is not None else "",
        site=_declaration_site(form, field_name),
        declared=declared,
    )


@settings_cache(maxsize=512)
def _declaration_site(owner: Any, field_name: str) -> CallSite | None:
    """The project line declaring `field_name` on a serializer or form class (or naming it in its
    Meta.fields); a class of no project file is not read (an admin's generated form)."""
    from perftoolkit.middleware.capture.frames import Kind, classify

    for klass in owner.__mro__:
        try:
            filename = inspect.getsourcefile(klass)
            if filename is None or classify(filename) is not Kind.PROJECT:
                continue
            lines, start = inspect.getsourcelines(klass)
        except (OSError, TypeError):
            continue
        line = _find_declaration("".join(lines), field_name)
        if line is not None:
            return CallSite(
                relative_path(filename), start + line - 1, f"{klass.__name__}.{field_name}"
            )
    return None


def _find_declaration(source: str, field_name: str) -> int | None:
    """Line (1-based, in `source`) of `field_name = …`, else of the Meta.fields entry naming it."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None
    fallback = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == field_name:
                    return node.lineno
                if isinstance(target, ast.Name) and target.id == "fields":
                    for element in ast.walk(node.value):
                        if isinstance(element, ast.Constant) and element.value == field_name:
                            fallback = element.lineno
    return fallback


# A statement longer than this is quoted by its own line only (a page-long literal is no filter).
_MAX_STATEMENT_LINES = 12


def caller_of_method(frame: FrameType) -> CallSite | None:
    """When `frame` is a method of a model instance (its save(), a property that saves): the
    first project line out from it that is not a method of that same instance (a save() calling
    super().save(), a method calling another); None otherwise, or when no project line called it
    (a signal Django sent, a handler's frame)."""
    row = frame_local(frame, "self")
    if not isinstance(row, Model):
        return None
    outer = frame.f_back
    depth = 0
    while outer is not None and depth < MAX_DEPTH:
        kind = classify(outer.f_code.co_filename)
        if kind is Kind.HANDLER:
            return None
        if kind is Kind.PROJECT and frame_local(outer, "self") is not row:
            return callsite_of(outer)
        outer = outer.f_back
        depth += 1
    return None


def source_line(site: CallSite | None, filename: str | None) -> str | None:
    """The statement at a project callsite, stripped (for fixes that quote the user's code): the
    whole statement when it spans several lines (`Model.objects.filter(…)` then `.count()` on a
    line of its own), the header of a `for`/`if`/`with`; its line alone when the file does not
    parse."""
    if site is None or filename is None or site.file.endswith((".html", ".txt")):
        return None
    lines = linecache.getlines(filename)
    if not 0 < site.line <= len(lines):
        return None
    start, end = _statements(filename, len(lines), lines[0]).get(site.line, (site.line, site.line))
    if end - start >= _MAX_STATEMENT_LINES:
        start = end = site.line
    key = (filename, start, end)
    known = _sources.get(key)
    if known is not None and known[0] is lines:  # the same text of the file (linecache's list)
        return known[1]
    text = textwrap.dedent("".join(lines[start - 1 : end])).strip() or None
    if len(_sources) >= 4096:
        _sources.clear()
    _sources[key] = (lines, text)
    return text


# Statements quoted, by file and lines: quoted on every request that repeats them.
_sources: dict[tuple[str, int, int], tuple[list[str], str | None]] = {}


def local_names(site: CallSite | None, filename: str | None, source: str | None) -> tuple[str, ...]:
    """The names the statement `source` at `site` reads that its function binds (its parameters,
    assignments, loop and comprehension variables), sorted: a fix placed where the rows are
    queried, in another function, cannot use them (`filter(pk=step.pk)` in a loop over steps)."""
    if site is None or filename is None or not source:
        return ()
    lines = linecache.getlines(filename)
    if not lines:
        return ()
    bound = _bound_names(filename, len(lines), lines[0]).get(site.line)
    if not bound:
        return ()
    read = _read_names(source)
    return tuple(sorted(read & bound))


@lru_cache(maxsize=4096)  # once per statement text: it is quoted on every request that repeats it
def _read_names(source: str) -> frozenset[str]:
    for text in (source, f"{source}\n    pass"):  # a `for …:` or `if …:` header alone
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        return frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
    # a line of a longer statement: no fix quotes it (fixes.py refuses a source it cannot parse)
    logger.debug("perftoolkit: names of %r not read: it does not parse", source[:80])
    return frozenset()


@settings_cache(maxsize=256)
def _bound_names(filename: str, count: int, first: str) -> dict[int, frozenset[str]]:
    """For each line inside a function of the file, the names that function binds."""
    tree = _module(filename, count, first)
    if tree is None:
        return {}
    by_line: dict[int, frozenset[str]] = {}
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    # Outer functions first: an inner function's lines get its own names (and its outer ones').
    for function in sorted(functions, key=lambda f: f.lineno):
        arguments = function.args
        names = {
            a.arg
            for a in (
                *arguments.posonlyargs,
                *arguments.args,
                *arguments.kwonlyargs,
                *(x for x in (arguments.vararg, arguments.kwarg) if x is not None),
            )
        }
        stored = [
            n.id
            for n in ast.walk(function)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        ]
        names |= set(stored) - _from_the_request(function, stored)
        for line in range(function.lineno, (function.end_lineno or function.lineno) + 1):
            by_line[line] = by_line.get(line, frozenset()) | names
    return by_line


def _from_the_request(function: ast.AST, stored: list[str]) -> set[str]:
    """The variables only ever assigned an attribute of the request (`user =
    self.context["request"].user`): perf_fix writes them as the origin reaches the request, so a
    fix may use them."""
    values: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                values.setdefault(target.id, []).append(node.value)
    return {
        name
        for name, assigned in values.items()
        if len(assigned) == stored.count(name)
        and all(request_attribute(ast.unparse(value)) is not None for value in assigned)
    }


@settings_cache(maxsize=256)
def _module(filename: str, count: int, first: str) -> ast.Module | None:
    """A project module's syntax tree, parsed once for its statements and its functions' names.
    Keyed by the file's line count and first line as well, so a file linecache reread is parsed
    again; None (logged) when it does not parse."""
    try:
        return ast.parse("".join(linecache.getlines(filename)))
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        logger.debug("perftoolkit: %s not parsed (%r): its lines are quoted alone", filename, exc)
        return None


@settings_cache(maxsize=256)
def _statements(filename: str, count: int, first: str) -> dict[int, tuple[int, int]]:
    """Each line of a module → the first and last line of the innermost statement holding it (a
    compound statement's header only)."""
    tree = _module(filename, count, first)
    if tree is None:
        return {}
    spans: dict[int, tuple[int, int]] = {}
    for node in ast.walk(tree):  # outer statements first: inner ones overwrite their lines
        if not isinstance(node, ast.stmt):
            continue
        end = node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            inner = body[0].lineno
            decorators = getattr(node, "decorator_list", [])
            end = max(node.lineno, inner - 1) if not decorators else node.lineno
        for line in range(node.lineno, end + 1):
            spans[line] = (node.lineno, end)
    return spans


def definition_site(frame: FrameType, keywords: tuple[str, ...]) -> CallSite | None:
    """Where the queryset evaluated at `frame`'s line was built, when that is another line of the
    same function: `books = Book.objects.select_related(...)` … `for b in books:`.

    Only an assignment whose source mentions one of `keywords` counts, so the line returned is the
    one to edit.
    """
    code = frame.f_code
    return _definition_line(
        code.co_filename, code.co_firstlineno, frame.f_lineno, keywords, code.co_name
    )


@settings_cache(maxsize=1024)
def _definition_line(
    filename: str, first: int, line: int, keywords: tuple[str, ...], name: str
) -> CallSite | None:
    lines = linecache.getlines(filename)
    if not lines or line > len(lines):
        return None
    if any(k in lines[line - 1] for k in keywords):
        return CallSite(relative_path(filename), line, name)
    block = inspect.getblock(lines[first - 1 :])
    try:
        tree = ast.parse(textwrap.dedent("".join(block)))
    except SyntaxError:
        return None
    offset = first - 1
    used = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name)
        and node.lineno + offset == line
        and isinstance(node.ctx, ast.Load)
    }
    best: int | None = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.lineno + offset >= line:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = {t.id for t in targets if isinstance(t, ast.Name)}
        if not names & used or node.value is None:
            continue
        text = ast.get_source_segment(textwrap.dedent("".join(block)), node.value) or ""
        if any(k in text for k in keywords) and (best is None or node.lineno > best):
            best = node.lineno
    return CallSite(relative_path(filename), best + offset, name) if best is not None else None


# -- where a class-based view's rows' queryset is built -----------------------------------------

_EAGER_METHODS = ("select_related", "prefetch_related")
Eager = frozenset[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class QuerysetSource:
    """A line that can build a view's rows' queryset, with the eager loads its text asks for
    (None: not known from the text, e.g. `return queryset`)."""

    site: CallSite
    eager: Eager | None


def view_queryset_site(view_class: Any, rows_eager: Eager | None = None) -> CallSite | None:
    """Where a class-based view builds the queryset of the rows it lists.

    `get_queryset`'s last `return`, else a `queryset =` line, else the `model =` line of a generic
    view that builds its queryset from the model alone (where a `queryset = ...` goes). When
    `get_queryset` has several returns (`if staff: return super().get_queryset()`), the one whose
    select_related / prefetch_related equal `rows_eager` (the eager loads of the queryset the
    library evaluated) is the one that ran, when exactly one does.
    """
    default, sources = _view_queryset_sources(view_class)
    if rows_eager is None or len({s.site for s in sources}) < 2:
        return default
    matching = {s.site for s in sources if s.eager == rows_eager}
    return matching.pop() if len(matching) == 1 else default


@settings_cache(maxsize=256)
def _view_queryset_sources(view_class: Any) -> tuple[CallSite | None, tuple[QuerysetSource, ...]]:
    from perftoolkit.middleware.capture.frames import Kind, classify

    project = []
    for klass in getattr(view_class, "__mro__", ()):
        try:
            filename = inspect.getsourcefile(klass)
        except TypeError:
            continue
        if filename and classify(os.path.abspath(filename)) is Kind.PROJECT:
            project.append((klass, filename))
    attribute = _attribute_source(project, "queryset")
    model_line = _attribute_source(project, "model")
    for index, (klass, filename) in enumerate(project):
        method = vars(klass).get("get_queryset")
        if method is not None:
            sources = _return_sources(method, filename, klass, project[index + 1 :], attribute)
            if sources:
                return sources[-1].site, tuple(sources)
        if "queryset" in vars(klass) and attribute is not None:
            return attribute.site, (attribute,)
    return (model_line.site if model_line else None), ()


def _attribute_source(project: list[tuple[type, str]], name: str) -> QuerysetSource | None:
    """The first `name = ...` class attribute along the MRO (how `self.queryset` resolves)."""
    for klass, filename in project:
        if name not in vars(klass):
            continue
        found = _class_assignment(klass, name)
        if found is not None:
            line, value = found
            suffix = "queryset" if name == "queryset" else "model"
            site = CallSite(relative_path(filename), line, f"{klass.__name__}.{suffix}")
            return QuerysetSource(site, _eager_of(value) if value is not None else frozenset())
    return None


def _return_sources(
    method: Any,
    filename: str,
    klass: type,
    parents: list[tuple[type, str]],
    attribute: QuerysetSource | None,
) -> list[QuerysetSource]:
    """One source per `return` of a get_queryset, in line order; a bare `super().get_queryset()`
    or `self.queryset` stands for the queryset it returns."""
    try:
        lines, start = inspect.getsourcelines(method)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return []
    returns = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Return)), key=lambda n: n.lineno
    )
    function = f"{klass.__name__}.get_queryset"
    if not returns:
        return [QuerysetSource(CallSite(relative_path(filename), start, function), None)]
    base: QuerysetSource | None = None
    if parents or attribute is not None:
        base = _inherited_source(parents, attribute)
    # `self.queryset = …` in the method: what a later `return self.queryset` (or
    # `super().get_queryset()`, which copies it) returns, not the class attribute.
    assigned = sorted(
        (
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Assign)
            and any(_is_base(t) and isinstance(t, ast.Attribute) for t in n.targets)
        ),
        key=lambda n: n.lineno,
    )
    sources = []
    for node in returns:
        site = CallSite(relative_path(filename), start + node.lineno - 1, function)
        value = node.value
        if value is not None and _is_base(value):
            before = [a for a in assigned if a.lineno < node.lineno]
            if before:
                site = CallSite(relative_path(filename), start + before[-1].lineno - 1, function)
                value = before[-1].value
            elif base is not None:
                sources.append(base)
                continue
        eager = _eager_of(value) if value is not None else None
        if eager is not None and value is not None and _calls_base(value):
            eager = eager | base.eager if base is not None and base.eager is not None else None
        elif value is None or not _from_manager(value):
            eager = None  # `return queryset`: built elsewhere in the function
        sources.append(QuerysetSource(site, eager))
    return sources


def _inherited_source(
    parents: list[tuple[type, str]], attribute: QuerysetSource | None
) -> QuerysetSource | None:
    """What `super().get_queryset()` returns: a project parent's get_queryset (its last return),
    else the library's, which copies the `queryset =` attribute."""
    for index, (klass, filename) in enumerate(parents):
        method = vars(klass).get("get_queryset")
        if method is not None:
            sources = _return_sources(method, filename, klass, parents[index + 1 :], attribute)
            return sources[-1] if sources else None
    return attribute


def _is_base(node: ast.expr) -> bool:
    """`super().get_queryset()` or `self.queryset` (or `.all()` of either), nothing added."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "all" and not node.args:
            return _is_base(node.func.value)
        return (
            node.func.attr == "get_queryset"
            and isinstance(node.func.value, ast.Call)
            and isinstance(node.func.value.func, ast.Name)
            and node.func.value.func.id == "super"
        )
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "queryset"
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _from_manager(node: ast.expr) -> bool:
    """A chain that starts at a model's manager (`Enrollment.objects....`)."""
    return any(
        isinstance(n, ast.Attribute) and n.attr in ("objects", "_default_manager")
        for n in ast.walk(node)
    )


def _calls_base(node: ast.expr) -> bool:
    return any(_is_base(n) for n in ast.walk(node) if isinstance(n, ast.expr))


def _eager_of(node: ast.expr) -> Eager | None:
    """The ("select" | "prefetch", path) pairs a queryset expression asks for, as the ORM lists
    them (select paths as leaves; a Prefetch with to_attr is not a path); None when an argument
    is not literal text."""
    select: set[str] = set()
    prefetch: set[str] = set()
    for call in ast.walk(node):
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in _EAGER_METHODS
        ):
            continue
        for arg in call.args:
            path = _literal_path(arg)
            if path is None:
                return None
            if path == "":
                continue
            (select if call.func.attr == "select_related" else prefetch).add(path)
    leaves = {p for p in select if not any(o.startswith(f"{p}__") for o in select)}
    return frozenset({("select", p) for p in leaves} | {("prefetch", p) for p in prefetch})


def _literal_path(arg: ast.expr) -> str | None:
    """A lookup argument's path: "" for a Prefetch kept under another name (to_attr)."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.Call) and getattr(arg.func, "id", getattr(arg.func, "attr", "")) == (
        "Prefetch"
    ):
        if any(k.arg == "to_attr" for k in arg.keywords):
            return ""
        if (
            arg.args
            and isinstance(arg.args[0], ast.Constant)
            and isinstance(arg.args[0].value, str)
        ):
            return arg.args[0].value
    return None


def _class_assignment(klass: type, name: str) -> tuple[int, ast.expr | None] | None:
    try:
        lines, start = inspect.getsourcelines(klass)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return start + node.lineno - 1, node.value
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            return start + node.lineno - 1, node.value
    return None

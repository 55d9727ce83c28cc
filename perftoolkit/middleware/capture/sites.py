"""Where a query came from, as a developer edits it: the template line being rendered, the DRF
field declaration, the source text of a project line, and the line that built a queryset."""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
from types import FrameType
from typing import Any

from perftoolkit.conf import settings_cache
from perftoolkit.core.events import CallSite
from perftoolkit.middleware.capture.attribution import frame_local
from perftoolkit.middleware.capture.frames import Walk, relative_path


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


@settings_cache(maxsize=512)
def _declaration_site(serializer: Any, field_name: str) -> CallSite | None:
    from perftoolkit.middleware.capture.frames import Kind, classify

    for klass in serializer.__mro__:
        try:
            filename = inspect.getsourcefile(klass)
            lines, start = inspect.getsourcelines(klass)
        except (OSError, TypeError):
            continue
        if filename is None or classify(filename) is not Kind.PROJECT:
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


def source_line(site: CallSite | None, filename: str | None) -> str | None:
    """The statement at a project callsite, stripped (for fixes that quote the user's code)."""
    if site is None or filename is None or site.file.endswith((".html", ".txt")):
        return None
    text = linecache.getline(filename, site.line).strip()
    return text or None


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

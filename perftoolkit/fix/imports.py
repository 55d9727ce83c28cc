"""The names a fix writes (`Prefetch`, `Count`, a `Prefetch` queryset's model) imported once: into
an existing `from <module> import …` of the same module when there is one, else on a line of
their own after the module's last import (Django's after Django's)."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from perftoolkit.fix.chains import restyle


def bound_names(module: cst.Module) -> set[str]:
    """What the module defines or imports at its top level."""
    names: set[str] = set()
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef | cst.ClassDef):
            names.add(statement.name.value)
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    target = alias.asname.name if alias.asname else alias.name
                    names.add(cst.Module([]).code_for_node(target).split(".")[0])
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    target = alias.asname.name if alias.asname else alias.name
                    names.add(cst.Module([]).code_for_node(target))
            elif isinstance(small, cst.Assign):
                for each in small.targets:
                    if isinstance(each.target, cst.Name):
                        names.add(each.target.value)
    return names


def ensure_imports(module: cst.Module, wanted: Sequence[tuple[str, str]]) -> cst.Module:
    """`wanted`: (module path, name) pairs; those already bound are left alone."""
    bound = bound_names(module)
    by_module: dict[str, list[str]] = {}
    for path, name in wanted:
        if name not in bound and name not in by_module.setdefault(path, []):
            by_module[path].append(name)
    for path, names in by_module.items():
        if names:
            module = _import(module, path, sorted(names))
    return module


def _module_name(node: cst.ImportFrom) -> str:
    if node.relative or node.module is None:
        return ""
    return cst.Module([]).code_for_node(node.module)


def _import(module: cst.Module, path: str, names: list[str]) -> cst.Module:
    body = list(module.body)
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        small = statement.body[0]
        if (
            isinstance(small, cst.ImportFrom)
            and _module_name(small) == path
            and not isinstance(small.names, cst.ImportStar)
        ):
            original = list(small.names)
            added = [cst.ImportAlias(name=cst.Name(n)) for n in names]
            opening = small.lpar.whitespace_after if small.lpar else cst.SimpleWhitespace("")
            aliases = restyle([*original, *added], original, opening)
            body[index] = statement.with_changes(body=[small.with_changes(names=aliases)])
            return module.with_changes(body=body)
    line = cst.parse_statement(f"from {path} import {', '.join(names)}\n")
    body.insert(_position(body, path), line)
    return module.with_changes(body=body)


def _position(body: Sequence[cst.CSTNode], path: str) -> int:
    """After the last import of the same top-level package, else after the last import, else
    after the docstring."""
    top = path.split(".")[0]
    last_import = last_same = -1
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import | cst.ImportFrom):
                last_import = index
                name = (
                    _module_name(small)
                    if isinstance(small, cst.ImportFrom)
                    else cst.Module([]).code_for_node(small.names[0].name)
                )
                if name.split(".")[0] == top:
                    last_same = index
    if last_same >= 0:
        return last_same + 1
    if last_import >= 0:
        return last_import + 1
    first = body[0] if body else None
    docstring = (
        isinstance(first, cst.SimpleStatementLine)
        and isinstance(first.body[0], cst.Expr)
        and isinstance(first.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )
    return 1 if docstring else 0

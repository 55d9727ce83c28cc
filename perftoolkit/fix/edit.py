"""One finding's fix written into one module's source: locate the queryset, merge the calls, add
the imports. Text in, text out; Django is not needed (the caller says which model classes the
fix applies to and where a `Prefetch` queryset's model is imported from)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import libcst as cst

from perftoolkit.core.fix.calls import free_names, orm_names, parse_fix, substitute
from perftoolkit.core.fix.merge import MergeRefused, merge_calls
from perftoolkit.fix.chains import ChainRewriter
from perftoolkit.fix.imports import bound_names, ensure_imports
from perftoolkit.fix.locate import Unplaceable, locate

ORM_MODULE = "django.db.models"


class AlreadyThere(Exception):
    """The queryset already makes every call the fix asks for."""


@dataclass(frozen=True, slots=True)
class Placement:
    """What the caller knows about the project: `models` are the class names of the rows the fix
    goes on; `imports` the module each model a fix names is imported from; `names` the text
    that stands, at the origin, for a name the fix took from the per-row code (`user`)."""

    models: frozenset[str]
    imports: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)


def apply_fix(source: str, line: int, code: str, placement: Placement) -> str:
    """The module's new source; raises Unplaceable (with the reason) or AlreadyThere."""
    if placement.names:
        code = substitute(code, placement.names)
    calls = parse_fix(code)
    if calls is None:
        raise Unplaceable(f"the fix is not queryset code perf_fix can write ({code})")
    models, free = free_names(code)
    located = locate(source, line, placement.models)
    module = located.module
    unknown = sorted(free - _scope_names(located) - bound_names(module))
    if unknown:
        raise Unplaceable(
            f"the fix uses {', '.join(unknown)}, which the code where the rows are queried does "
            "not define"
        )
    missing = sorted(m for m in models if m not in placement.imports)
    if missing and set(missing) - bound_names(module):
        raise Unplaceable(f"cannot tell which model {', '.join(missing)} is, to import it")
    rewriter = ChainRewriter()
    changed = False
    for view in located.chains:
        if view.flattened:
            raise Unplaceable(
                "the rows are read with values()/values_list(), which eager loads do not reach"
            )
        try:
            merged = merge_calls(view.queryset_calls(module), calls)
        except MergeRefused as exc:
            raise Unplaceable(str(exc)) from None
        changed = changed or not merged.empty
        rewriter.add(view, merged, module)
    if not changed:
        raise AlreadyThere()
    edited = module.visit(rewriter)
    wanted = [(ORM_MODULE, n) for n in sorted(orm_names(code))]
    wanted += [(placement.imports[m], m) for m in sorted(models) if m in placement.imports]
    return ensure_imports(edited, wanted).code


def _scope_names(located: object) -> set[str]:
    """Every name a function of the module binds (parameters, assignments): a free name of the
    fix (`self` after a substitution) must be one of them or a module-level one."""
    module: cst.Module = located.module  # type: ignore[attr-defined]
    names: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Param(self, node: cst.Param) -> None:
            names.add(node.name.value)

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name):
                names.add(node.target.value)

    module.visit(Visitor())
    return names

"""What the ORM knows about a query, read from the locals of the frames `frames.walk` found.

Turns live Django objects (descriptors, related managers, querysets, template nodes, DRF
serializer fields) into plain `core.events` values at once, so nothing Django-shaped outlives
the query.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
from functools import lru_cache
from types import FrameType
from typing import Any

from django.db.models import Model, QuerySet

from perftoolkit.core.events import CallSite, Relation
from perftoolkit.instrumentation.frames import Walk, relative_path

_VIA_BY_METHOD = {
    "count": "count",
    "exists": "exists",
    "aggregate": "aggregate",
    "get": "get_one",
    "first": "get_one",
    "last": "get_one",
    "contains": "exists",
    "in_bulk": "other",
}


def _local(frame: FrameType | None, name: str) -> Any:
    if frame is None:
        return None
    return frame.f_locals.get(name)


def label(model: Any) -> str:
    meta = getattr(model, "_meta", None)
    return str(meta.label) if meta is not None else type(model).__name__


def queryset_of(walk: Walk) -> QuerySet[Any] | None:
    """The queryset whose evaluation ran the query (an iterable's queryset counts)."""
    owner = _local(walk.queryset, "self")
    if isinstance(owner, QuerySet):
        return owner
    inner = getattr(owner, "queryset", None)
    return inner if isinstance(inner, QuerySet) else None


def explicit_ordering(queryset: Any) -> tuple[str, ...]:
    """The order_by() a queryset was given (plain field names; expressions are left out)."""
    return tuple(o for o in queryset.query.order_by if isinstance(o, str))


def default_ordering(queryset: Any) -> tuple[str, ...]:
    """The model's Meta.ordering when this queryset orders by it alone (no order_by of its own)."""
    query = queryset.query
    if query.order_by or not query.default_ordering:
        return ()
    ordering = getattr(queryset.model._meta, "ordering", None) or ()
    return tuple(o if isinstance(o, str) else str(o) for o in ordering)


def eager_paths(queryset: Any) -> tuple[tuple[str, str], ...]:
    """The select_related / prefetch_related paths a queryset asked for."""
    paths: list[tuple[str, str]] = []
    select = queryset.query.select_related
    if isinstance(select, dict):
        paths.extend(("select", p) for p in _flatten(select))
    for lookup in queryset._prefetch_related_lookups:
        through = getattr(lookup, "prefetch_through", lookup)
        if isinstance(through, str) and not getattr(lookup, "to_attr", None):
            paths.append(("prefetch", through))
    return tuple(paths)


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, sub in tree.items():
        path = f"{prefix}{name}"
        children = _flatten(sub, f"{path}__") if isinstance(sub, dict) and sub else []
        out.extend(children or [path])
    return out


def relation_of(walk: Walk, queryset: QuerySet[Any] | None) -> Relation | None:
    """The relation whose read fired the query, when the ORM made the query for one."""
    if walk.prefetch is not None:
        return None
    via = via_of(walk)
    descriptor = _local(walk.descriptor, "self")
    instance = _local(walk.descriptor, "instance")
    if descriptor is not None and isinstance(instance, Model):
        if hasattr(descriptor, "related"):  # ReverseOneToOneDescriptor
            rel = descriptor.related
            return Relation(
                model=label(instance),
                field=rel.get_accessor_name(),
                kind="reverse_one",
                target=label(rel.related_model),
                via="get",
                related_query_name=rel.field.name,
                query_name=_differs(rel.field.related_query_name(), rel.get_accessor_name()),
            )
        field = getattr(descriptor, "field", None)
        if field is not None:
            return Relation(
                model=label(instance),
                field=field.name,
                kind="forward",
                target=label(field.related_model),
                via="get",
                related_query_name=field.related_query_name(),
            )
    generic = _local(walk.generic, "self")
    if generic is not None:
        found = _generic_relation(walk.generic, generic, via)
        if found is not None:
            return found
    manager = _local(walk.manager, "self")
    if manager is not None and isinstance(getattr(manager, "instance", None), Model):
        found = _manager_relation(manager, via)
        if found is not None:
            return found
    if queryset is not None:
        return _queryset_relation(queryset, via)
    return None


def via_of(walk: Walk) -> str:
    name = walk.queryset.f_code.co_name if walk.queryset is not None else ""
    if walk.manager is not None and walk.manager.f_code.co_name in ("count", "exists"):
        name = walk.manager.f_code.co_name
    return _VIA_BY_METHOD.get(name, "all")


def _is_prefetched(instance: Model, *names: str) -> bool:
    cache_ = getattr(instance, "_prefetched_objects_cache", None) or {}
    return any(name in cache_ for name in names)


def _manager_relation(manager: Any, via: str) -> Relation | None:
    instance = manager.instance
    if hasattr(manager, "source_field_name"):  # many-to-many, either side
        accessor = _m2m_accessor(type(instance), manager)
        return Relation(
            model=label(instance),
            field=accessor,
            kind="many",
            target=label(manager.model),
            via=via,
            prefetched=_is_prefetched(instance, manager.prefetch_cache_name, accessor),
            related_query_name=manager.query_field_name,
            query_name=_differs(manager.prefetch_cache_name, accessor),
        )
    if hasattr(manager, "content_type_field_name"):  # GenericRelation
        name = manager.prefetch_cache_name
        return Relation(
            model=label(instance),
            field=name,
            kind="generic_many",
            target=label(manager.model),
            via=via,
            prefetched=_is_prefetched(instance, name),
            related_query_name=manager.object_id_field_name,
        )
    field = getattr(manager, "field", None)
    if field is not None and getattr(field, "remote_field", None) is not None:
        accessor = field.remote_field.get_accessor_name()
        return Relation(
            model=label(instance),
            field=accessor,
            kind="reverse_many",
            target=label(manager.model),
            via=via,
            prefetched=_is_prefetched(instance, field.remote_field.cache_name, accessor),
            related_query_name=field.name,
            query_name=_differs(field.related_query_name(), accessor),
        )
    return None


def membership_relation(queryset: Any, relation: Relation) -> Relation | None:
    """`owner.m2m.filter(pk=row.pk).exists()` run with the same owner for every row: the relation
    that varies per row is the many-to-many read from the row's side, filtered to the owner."""
    owner = queryset._hints.get("instance")
    if not isinstance(owner, Model):
        return None
    meta: Any = type(owner)._meta
    accessor = query_name = None
    lookup = None  # how the rows' model names the owner's model in lookups
    for field in meta.many_to_many:  # declared on the owner: `profile.favorites`
        if field.name == relation.field:
            accessor, query_name = field.remote_field.get_accessor_name(), field.name
            lookup = field.related_query_name()
    for rel in meta.related_objects:  # declared on the rows' model: `tag.books`
        if rel.many_to_many and rel.get_accessor_name() == relation.field:
            accessor, query_name = rel.field.name, rel.field.related_query_name()
            lookup = rel.field.name
    if not accessor or not query_name:  # a symmetrical m2m has no accessor back
        return None
    return Relation(
        model=label(queryset.model),
        field=str(accessor),
        kind="many",
        target=label(owner),
        via=relation.via,
        related_query_name=str(query_name),
        constant=True,
        query_name=_differs(lookup, accessor),
    )


def _m2m_accessor(model: type[Model], manager: Any) -> str:
    if not manager.reverse:
        return str(manager.prefetch_cache_name)
    for rel in model._meta.related_objects:
        if rel.many_to_many and getattr(rel, "through", None) is manager.through:
            return str(rel.get_accessor_name())
    return str(manager.prefetch_cache_name)


def _queryset_relation(queryset: Any, via: str) -> Relation | None:
    """A related manager's queryset evaluated later (`for s in course.sections.all()`)."""
    instance = queryset._hints.get("instance")
    if not isinstance(instance, Model):
        return None
    filtered = via == "all" and len(queryset.query.where.children) > 1
    via = "filter" if filtered else via
    target = queryset.model
    for fk in queryset._known_related_objects:  # reverse foreign key managers set this
        accessor = fk.remote_field.get_accessor_name()
        return Relation(
            model=label(instance),
            field=accessor,
            kind="reverse_many",
            target=label(target),
            via=via,
            prefetched=_is_prefetched(instance, fk.remote_field.cache_name, accessor),
            related_query_name=fk.name,
            query_name=_differs(fk.related_query_name(), accessor),
        )
    meta: Any = type(instance)._meta
    # accessor, query name (target → instance), join table, kind, lookup (instance → target)
    candidates: list[tuple[str, str, str, str, str]] = []
    for field in meta.many_to_many:
        if field.related_model is target:
            table = field.remote_field.through._meta.db_table
            candidates.append((field.name, field.related_query_name(), table, "many", field.name))
    for rel in meta.related_objects:
        if rel.related_model is not target:
            continue
        if rel.many_to_many:
            rel_through: Any = getattr(rel, "through", None)
            candidates.append(
                (
                    str(rel.get_accessor_name()),
                    rel.field.name,
                    rel_through._meta.db_table,
                    "many",
                    rel.field.related_query_name(),
                )
            )
        elif rel.one_to_many:
            # A reverse FK queryset without known related objects: a prefetched manager, filtered.
            candidates.append(
                (
                    str(rel.get_accessor_name()),
                    rel.field.name,
                    target._meta.db_table,
                    "reverse_many",
                    rel.field.related_query_name(),
                )
            )
    for field in meta.private_fields:
        if getattr(field, "is_relation", False) and getattr(field, "related_model", None) is target:
            return Relation(
                model=label(instance),
                field=field.name,
                kind="generic_many",
                target=label(target),
                via=via,
                prefetched=_is_prefetched(instance, field.name),
                related_query_name=getattr(field, "object_id_field_name", ""),
            )
    if len(candidates) > 1:
        tables = {join.table_name for join in queryset.query.alias_map.values()}
        candidates = [c for c in candidates if c[2] in tables] or candidates[:1]
    if not candidates:
        return None
    accessor, query_name, _, kind, lookup = candidates[0]
    return Relation(
        model=label(instance),
        field=accessor,
        kind=kind,
        target=label(target),
        via=via,
        prefetched=_is_prefetched(instance, accessor, query_name),
        related_query_name=query_name,
        query_name=_differs(lookup, accessor),
    )


def _differs(lookup: Any, accessor: Any) -> str:
    """The lookup name when it is not the accessor (`comment` for `comment_set`), else ""."""
    return "" if str(lookup) == str(accessor) else str(lookup)


def _generic_relation(frame: FrameType | None, generic: Any, via: str) -> Relation | None:
    instance = _local(frame, "instance")
    if not isinstance(instance, Model):
        manager = generic
        if isinstance(getattr(manager, "instance", None), Model):
            return _manager_relation(manager, via)
        return None
    content_type = _local(frame, "ct")
    target_model = content_type.model_class() if content_type is not None else None
    return Relation(
        model=label(instance),
        field=str(getattr(generic, "name", "content_object")),
        kind="generic",
        target=label(target_model) if target_model is not None else "",
        via="get",
    )


def template_site(walk: Walk) -> CallSite | None:
    """The template file and line of the innermost node being rendered."""
    node = _local(walk.template, "self")
    token = getattr(node, "token", None)
    origin = getattr(node, "origin", None)
    name = getattr(origin, "name", None)
    if token is None or not isinstance(name, str) or name.startswith("<"):
        return None
    contents = " ".join(str(getattr(token, "contents", "")).split())[:80]
    return CallSite(relative_path(name), int(getattr(token, "lineno", 0) or 0), contents)


def serializer_site(walk: Walk) -> CallSite | None:
    """The line declaring the DRF serializer field being rendered, when it is project code."""
    field = _local(walk.serializer, "field")
    parent = getattr(field, "parent", None)
    name = getattr(field, "field_name", None)
    if parent is None or not isinstance(name, str):
        return None
    serializer_class: Any = type(parent)
    return _declaration_site(serializer_class, name)


@lru_cache(maxsize=512)
def _declaration_site(serializer: Any, field_name: str) -> CallSite | None:
    from perftoolkit.instrumentation.frames import Kind, classify

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


def path_hops(model: type[Model], path: str) -> tuple[tuple[str, str], ...]:
    """`enrollment__user` on CourseReview → (("lms.CourseReview", "enrollment"), ("lms.Enrollment", "user"))."""
    hops: list[tuple[str, str]] = []
    current: Any = model
    for name in path.split("__"):
        if current is None:
            break
        hops.append((label(current), name))
        current = _related_model(current, name)
    return tuple(hops)


def _related_model(model: type[Model], accessor: str) -> type[Model] | None:
    meta = model._meta
    fields: list[Any] = list(meta.get_fields(include_hidden=False))
    for field in fields:
        if not field.is_relation:
            continue
        name = (
            field.get_accessor_name() if field.auto_created and not field.concrete else field.name
        )
        if name == accessor:
            related = field.related_model
            return related if isinstance(related, type) else None
    return None


def path_target(model: type[Model], path: str) -> str:
    current: Any = model
    for name in path.split("__"):
        current = _related_model(current, name) if current is not None else None
    return label(current) if current is not None else ""


def fk_lookups(queryset: Any, via: str) -> tuple[Relation, ...]:
    """The foreign keys a per-row query filters on, each as the relation read from the other side.

    `Enrollment.objects.filter(course=obj, user=u)` → Course.enrollments, User.enrollment_set.
    """
    out: list[Relation] = []
    try:
        children = list(queryset.query.where.children)
    except AttributeError:
        return ()
    generic = _generic_lookups(queryset, children, via)
    if generic:
        return generic
    query = queryset.query
    base = query.base_table
    for child in children:
        column = getattr(child, "lhs", None)
        target = getattr(column, "target", None)
        remote = getattr(target, "remote_field", None)
        if remote is None or not getattr(target, "many_to_one", False):
            continue
        joins = _joins_to(query, getattr(column, "alias", base), base)
        if joins is None:
            continue
        # Back from the filtered model to the rows' model: the reverse of the foreign key, then
        # each join walked the other way (`enrollment__course=c` on reviews → enrollments__review).
        accessors = [remote.get_accessor_name()]
        lookups = [str(remote.field.related_query_name())]  # the same walk in lookup names
        query_names = [_query_name(field) for field in joins]
        many = not getattr(target, "one_to_one", False)
        for field in reversed(joins):
            back, back_many = _reverse_accessor(field)
            accessors.append(back)
            lookups.append(_reverse_lookup(field))
            many = many or back_many
        if not all(accessors) or not all(query_names):
            continue
        out.append(
            Relation(
                model=label(remote.model),
                field="__".join(str(a) for a in accessors),
                kind="reverse_many" if many else "reverse_one",
                target=label(queryset.model),
                via=via,
                related_query_name="__".join([*query_names, str(getattr(target, "name", ""))]),
                query_name=_differs(
                    "__".join(str(x) for x in lookups), "__".join(str(a) for a in accessors)
                ),
            )
        )
    return tuple(out)


def _generic_lookups(queryset: Any, children: list[Any], via: str) -> tuple[Relation, ...]:
    """`Comment.objects.filter(content_type=ct, object_id=pk)`: the GenericRelations it serves."""
    columns = {
        getattr(getattr(getattr(c, "lhs", None), "target", None), "name", None) for c in children
    }
    model = queryset.model
    for gfk in model._meta.private_fields:
        ct_field, fk_field = getattr(gfk, "ct_field", None), getattr(gfk, "fk_field", None)
        if ct_field in columns and fk_field in columns:
            return tuple(
                Relation(
                    model=label(owner),
                    field=name,
                    kind="generic_many",
                    target=label(model),
                    via=via,
                    related_query_name=str(fk_field),
                )
                for owner, name in _generic_relations_to(model)
            )
    return ()


@lru_cache(maxsize=256)
def _generic_relations_to(model: Any) -> tuple[tuple[Any, str], ...]:
    from django.apps import apps

    found = []
    for owner in apps.get_models():
        for field in owner._meta.private_fields:
            if (
                getattr(field, "many_to_many", None) is False
                and getattr(field, "related_model", None) is model
                and hasattr(field, "object_id_field_name")
            ):
                found.append((owner, field.name))
    return tuple(found)


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


@lru_cache(maxsize=1024)
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


def _joins_to(query: Any, alias: str, base: str) -> list[Any] | None:
    """The join fields from the base table to `alias`, outermost first (None: not a plain chain)."""
    fields: list[Any] = []
    while alias != base:
        join = query.alias_map.get(alias)
        field = getattr(join, "join_field", None)
        if field is None:
            return None
        fields.append(field)
        alias = join.parent_alias
    fields.reverse()
    return fields


def _query_name(field: Any) -> str:
    """How a lookup names the hop: a field's name, or a reverse relation's query name."""
    if getattr(field, "auto_created", False) and not getattr(field, "concrete", True):
        return str(field.name)  # a reverse relation (ForeignObjectRel): its query name
    return str(getattr(field, "name", ""))


def _reverse_lookup(field: Any) -> str:
    """The lookup name that walks a join backwards (`_reverse_accessor` in lookup names)."""
    if getattr(field, "auto_created", False) and not getattr(field, "concrete", True):
        return str(field.field.name)
    return str(field.related_query_name()) if hasattr(field, "related_query_name") else ""


def _reverse_accessor(field: Any) -> tuple[str, bool]:
    """The attribute that walks a join backwards, and whether it yields many rows."""
    if getattr(field, "auto_created", False) and not getattr(field, "concrete", True):
        forward = field.field  # a reverse relation: walking back is the forward field
        return str(forward.name), bool(forward.many_to_many)
    rel = getattr(field, "remote_field", None)
    if rel is None:
        return "", False
    return str(rel.get_accessor_name() or ""), not getattr(field, "one_to_one", False)

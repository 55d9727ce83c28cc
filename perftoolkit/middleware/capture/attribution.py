"""What the ORM knows about a query, read from the locals of the frames `frames.walk` found.

Turns live Django objects (descriptors, related managers, querysets, template nodes, DRF
serializer fields) into plain `core.events` values at once, so nothing Django-shaped outlives
the query.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from types import FrameType
from typing import Any

from django.db.models import Model, QuerySet

from perftoolkit.core.events import Relation, RelationKind, RelationVia
from perftoolkit.middleware.capture.accesses import OWNER_ATTRIBUTE
from perftoolkit.middleware.capture.frames import Walk

logger = logging.getLogger("perftoolkit")

_VIA_BY_METHOD: dict[str, RelationVia] = {
    "count": "count",
    "exists": "exists",
    "aggregate": "aggregate",
    "get": "get_one",
    "first": "get_one",
    "last": "get_one",
    "latest": "get_one",
    "earliest": "get_one",
    "contains": "exists",
    "in_bulk": "other",
}


def frame_local(frame: FrameType | None, name: str) -> Any:
    if frame is None:
        return None
    return frame.f_locals.get(name)


def label(model: Any) -> str:
    meta = getattr(model, "_meta", None)
    return str(meta.label) if meta is not None else type(model).__name__


def queryset_of(walk: Walk) -> QuerySet[Any] | None:
    """The queryset whose evaluation ran the query (an iterable's queryset counts)."""
    return queryset_in(walk.queryset)


def queryset_in(frame: FrameType | None) -> QuerySet[Any] | None:
    """The queryset a queryset frame (`Walk.queryset`) evaluates (an iterable's counts)."""
    owner = frame_local(frame, "self")
    if isinstance(owner, QuerySet):
        return owner
    inner = getattr(owner, "queryset", None)
    return inner if isinstance(inner, QuerySet) else None


def evaluates_an_argument(walk: Walk, queryset: QuerySet[Any] | None) -> bool:
    """Whether the project frame evaluates rows of a queryset it was handed as an argument (a
    project's own paginator: `list(queryset[offset:end])`): that line did not build them, as
    library code evaluating a queryset does not (`Walk.handed_off`)."""
    project = walk.project
    if project is None or queryset is None or walk.template is not None:
        return False
    code = project.f_code
    count = code.co_argcount + code.co_kwonlyargcount
    if not count:
        return False
    values = project.f_locals
    model = queryset.model
    for name in code.co_varnames[:count]:
        value = values.get(name)
        if isinstance(value, QuerySet) and value.model is model:
            return True
    return False


def explicit_ordering(queryset: Any) -> tuple[str, ...]:
    """The order a queryset was given (plain field names, as the statement runs them: reversed by
    `last()`, `latest()` or `reverse()`; expressions are left out). None
    for a library relation's set as its manager makes it: that order is the manager's own, and
    its prefetch serves it (a further order_by() makes a clone that carries no mark)."""
    if hasattr(queryset, OWNER_ATTRIBUTE):
        return ()
    ordering = _names(queryset.query.order_by)
    if not queryset.query.standard_ordering:
        # reversed (`last()`, `latest()`, `reverse()`): the order the statement runs in
        ordering = tuple(o[1:] if o.startswith("-") else f"-{o}" for o in ordering)
    manager = _manager_query(queryset.model)
    if ordering and manager is not None and ordering == _names(manager.order_by):
        # the default manager's own order (django-treebeard's `path`): a prefetch, made through
        # the same manager, keeps it
        return ()
    return ordering


def _names(order_by: Any) -> tuple[str, ...]:
    return tuple(o for o in order_by if isinstance(o, str))


_MANAGER_QUERIES: dict[type, Any] = {}


def _manager_query(model: type) -> Any:
    """The query every queryset of the model's default manager starts from (its WHERE, its
    order), read once per model; None when the manager cannot be read here (a scope or a request
    it needs), which is logged and not asked again: it runs inside a query's capture."""
    if model in _MANAGER_QUERIES:
        return _MANAGER_QUERIES[model]
    try:
        query = model._default_manager.get_queryset().query  # type: ignore[attr-defined]
    except Exception as exc:
        logger.debug(
            "perftoolkit: the default manager of %s cannot be read outside its context (%r); "
            "its rows are taken as filtered",
            getattr(model, "__name__", model),
            exc,
        )
        query = None
    _MANAGER_QUERIES[model] = query
    return query


def default_ordering(queryset: Any) -> tuple[str, ...]:
    """The model's Meta.ordering when this queryset orders by it alone (no order_by of its own)."""
    query = queryset.query
    if query.order_by or not query.default_ordering:
        return ()
    ordering = getattr(queryset.model._meta, "ordering", None) or ()
    return tuple(o if isinstance(o, str) else str(o) for o in ordering)


def manager_filters(model: type, back: str = "") -> bool:
    """Whether the model's default manager leaves rows out (its queryset has a WHERE of its
    own: `exclude(state="draft")`), other than on `back`, the field the relation itself follows
    (django-scopes' `event=<the scope's event>` on a set of the event's rows: the same rows). A
    manager that cannot answer counts as filtering."""
    manager = _manager_query(model)
    return manager is None or _constrains_other_than(manager.where, back)


def _constrains_other_than(node: Any, field: str) -> bool:
    """A WHERE that constrains anything but `field` of the model (a lookup on another column, a
    negation, an expression it cannot read)."""
    children = getattr(node, "children", None)
    if children is not None:  # a WhereNode
        if getattr(node, "negated", False) and children:
            return True
        return any(_constrains_other_than(child, field) for child in children)
    target = getattr(getattr(node, "lhs", None), "target", None)
    return target is None or not field or getattr(target, "name", None) != field


def filtered_beyond_manager(queryset: Any) -> bool:
    """Whether a related set's queryset has conditions other than its relation's key and those
    every queryset of the model's default manager has (django-scopes' `space=…`, a manager that
    leaves hidden rows out): `course.sections.all()` read through such a manager is still the
    whole set, which a prefetch (made through the same manager) serves."""
    conditions = len(queryset.query.where.children)
    if conditions <= 1:
        return False
    manager = _manager_query(queryset.model)
    return manager is None or conditions > 1 + len(manager.where.children)


def with_manager_filters(relation: Any, queryset: Any) -> Any:
    """`relation` marked `filtered` when it counts or aggregates rows whose default manager
    leaves some out (an annotation over the relation would count those too)."""
    if relation is None or relation.via not in ("count", "aggregate") or queryset is None:
        return relation
    if not manager_filters(queryset.model, relation.related_query_name):
        return relation
    return replace(relation, filtered=True)


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
    descriptor = frame_local(walk.descriptor, "self")
    instance = frame_local(walk.descriptor, "instance")
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
                query_name=query_name_unless(
                    rel.field.related_query_name(), rel.get_accessor_name()
                ),
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
    generic = frame_local(walk.generic, "self")
    if generic is not None:
        found = _generic_relation(walk.generic, generic, via)
        if found is not None:
            return found
    manager = frame_local(walk.manager, "self")
    if manager is not None and isinstance(getattr(manager, "instance", None), Model):
        found = _manager_relation(manager, via)
        if found is not None:
            return found
    if queryset is not None:
        return _queryset_relation(queryset, via)
    return None


def via_of(walk: Walk) -> RelationVia:
    name = walk.queryset.f_code.co_name if walk.queryset is not None else ""
    manager = walk.manager
    if manager is not None:
        called = manager.f_code.co_name
        if called == "manager_method":  # the queryset method a manager passed the call to
            called = str(frame_local(manager, "name") or called)
        if called in _VIA_BY_METHOD:  # `book.reviews.get(…)`: not the queryset's inner iteration
            name = called
    return _VIA_BY_METHOD.get(name, "all")


def _cache_name(rel: Any) -> str:
    """Where a prefetch of this relation is kept (`cache_name` since Django 5.1)."""
    name = getattr(rel, "cache_name", None)
    return str(name if isinstance(name, str) else rel.get_cache_name())


def _is_prefetched(instance: Model, *names: str) -> bool:
    cache_ = getattr(instance, "_prefetched_objects_cache", None) or {}
    return any(name in cache_ for name in names)


def _manager_relation(manager: Any, via: RelationVia) -> Relation | None:
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
            query_name=query_name_unless(manager.prefetch_cache_name, accessor),
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
            prefetched=_is_prefetched(instance, _cache_name(field.remote_field), accessor),
            related_query_name=field.name,
            query_name=query_name_unless(field.related_query_name(), accessor),
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
        query_name=query_name_unless(lookup, accessor),
    )


def _m2m_accessor(model: type[Model], manager: Any) -> str:
    if not manager.reverse:
        return str(manager.prefetch_cache_name)
    for rel in model._meta.related_objects:
        if rel.many_to_many and getattr(rel, "through", None) is manager.through:
            return str(rel.get_accessor_name())
    return str(manager.prefetch_cache_name)


def owner_of(queryset: Any) -> Any:
    """The row whose related set `queryset` is (a related manager's hint, or the mark a library
    relation's manager left: `post.tags.all()`), or None."""
    owner = getattr(queryset, "_hints", {}).get("instance")
    if owner is None:
        owned = getattr(queryset, OWNER_ATTRIBUTE, None)
        if owned is not None:
            owner = owned[0]
    return owner


def _owned_relation(queryset: Any, via: RelationVia) -> Relation | None:
    """A library relation's set (django-taggit's `post.tags.all()`), prefetchable by its name:
    its manager marked the queryset (accesses._mark_manager)."""
    owned = getattr(queryset, OWNER_ATTRIBUTE, None)
    if owned is None:
        return None
    instance, name = owned
    if not isinstance(instance, Model):
        return None
    return Relation(
        model=label(instance),
        field=name,
        kind="many",
        target=label(queryset.model),
        via=via,
        prefetched=_is_prefetched(instance, name),
    )


def _queryset_relation(queryset: Any, via: RelationVia) -> Relation | None:
    """A related manager's queryset evaluated later (`for s in course.sections.all()`)."""
    owned = _owned_relation(queryset, via)
    if owned is not None:
        return owned
    instance = queryset._hints.get("instance")
    if not isinstance(instance, Model):
        return None
    filtered = via == "all" and filtered_beyond_manager(queryset)
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
            prefetched=_is_prefetched(instance, _cache_name(fk.remote_field), accessor),
            related_query_name=fk.name,
            query_name=query_name_unless(fk.related_query_name(), accessor),
        )
    meta: Any = type(instance)._meta
    # accessor, query name (target → instance), join table, kind, lookup (instance → target)
    candidates: list[tuple[str, str, str, RelationKind, str]] = []
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
        query_name=query_name_unless(lookup, accessor),
    )


def query_name_unless(lookup: Any, accessor: Any) -> str:
    """The lookup name when it is not the accessor (`comment` for `comment_set`), else ""."""
    return "" if str(lookup) == str(accessor) else str(lookup)


def _generic_relation(frame: FrameType | None, generic: Any, via: RelationVia) -> Relation | None:
    instance = frame_local(frame, "instance")
    if not isinstance(instance, Model):
        manager = generic
        if isinstance(getattr(manager, "instance", None), Model):
            return _manager_relation(manager, via)
        return None
    content_type = frame_local(frame, "ct")
    target_model = content_type.model_class() if content_type is not None else None
    return Relation(
        model=label(instance),
        field=_generic_name(generic),
        kind="generic",
        target=label(target_model) if target_model is not None else "",
        via="get",
    )


def _generic_name(generic: Any) -> str:
    """The GenericForeignKey's name: `generic` is the field itself up to Django 6.0, and a
    GenericForeignKeyDescriptor holding it in `.field` since 6.1."""
    name = getattr(generic, "name", None)
    if not isinstance(name, str):
        name = getattr(getattr(generic, "field", None), "name", None)
    return name if isinstance(name, str) else "content_object"

"""Relations as paths over the model graph: the hops of an eager-load path, and the foreign keys a
per-row query filters on (through joins), each read from the other side."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, NamedTuple

from django.db.models import Model

from perftoolkit.core.events import Relation, RelationVia
from perftoolkit.middleware.capture.attribution import label, query_name_unless

logger = logging.getLogger("perftoolkit")


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


def path_models(model: type[Model], path: str) -> list[type[Model]]:
    """The models `path` passes through after `model`, in order (as far as it resolves)."""
    out: list[type[Model]] = []
    current: type[Model] | None = model
    for name in path.split("__"):
        current = _related_model(current, name) if current is not None else None
        if current is None:
            break
        out.append(current)
    return out


def path_target(model: type[Model], path: str) -> str:
    current: Any = model
    for name in path.split("__"):
        current = _related_model(current, name) if current is not None else None
    return label(current) if current is not None else ""


def fk_lookups(
    queryset: Any,
    via: RelationVia,
    params: Any = None,
    first_params: Any = None,
    frame: Any = None,
) -> tuple[Relation, ...]:
    """The foreign keys a per-row query filters on, each as the relation read from the other side.

    `Enrollment.objects.filter(course=obj, user=u)` → Course.enrollments, User.enrollment_set.
    Given the parameters of this run and of the statement's first run, a key whose value is the
    same in both while the parameters differ is left out: the rows vary by something else
    (`Mailing.objects.filter(content_type=ct, sent_ids__regex=row.pk)`: not one query per content
    type).

    Given the project frame that ran the query, a key whose value is not a row of the key's model
    found there but a foreign key of another row (`Loan.objects.filter(book=review.book_id)`, per
    review) is read from that row: Review.book__loans, one query per review.
    """
    out: list[Relation] = []
    try:
        children = list(queryset.query.where.children)
    except AttributeError:
        return ()
    varying = children
    if params is not None and first_params is not None:
        varying = [c for c in children if not _unchanged(c, params, first_params)]
    generic = _generic_lookups(queryset, children, varying, via)
    if generic:
        return generic
    query = queryset.query
    # Not `query.base_table`: a cached property, which read before the query is compiled (an
    # unevaluated `Model.objects.all()` in a frame) would keep None and make the project's next
    # use of that queryset raise KeyError in Django's compiler.
    base = next(iter(query.alias_map), None)
    if base is None:
        return ()
    for child in varying:
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
        hops: list[_Hop] = [
            _Hop(
                str(remote.get_accessor_name() or ""),
                str(remote.field.related_query_name()),
                str(getattr(target, "name", "")),
                not getattr(target, "one_to_one", False),
                target,
                "reverse",
            )
        ]
        for field in reversed(joins):
            back, back_many = _reverse_accessor(field)
            reverse = getattr(field, "auto_created", False) and not getattr(field, "concrete", True)
            hops.append(
                _Hop(
                    back,
                    _reverse_lookup(field),
                    _query_name(field),
                    back_many,
                    field.field if reverse else field,
                    "forward" if reverse else "reverse",
                )
            )
        holder = _row_holding(frame, remote.model, getattr(child, "rhs", None))
        if holder is not None:
            hops.insert(0, holder)
        hops = _through_hops_as_m2m(hops)
        accessors = [hop.accessor for hop in hops]
        lookups = [hop.lookup for hop in hops]
        query_names = [hop.forward for hop in reversed(hops)]
        many = any(hop.many for hop in hops)
        if not all(accessors) or not all(query_names):
            continue
        out.append(
            Relation(
                model=label(holder.key.model if holder is not None else remote.model),
                field="__".join(str(a) for a in accessors),
                kind="reverse_many" if many else "reverse_one",
                target=label(queryset.model),
                via=via,
                related_query_name="__".join(query_names),
                query_name=query_name_unless(
                    "__".join(str(x) for x in lookups), "__".join(str(a) for a in accessors)
                ),
            )
        )
    return tuple(out)


def _row_holding(frame: Any, model: Any, value: Any) -> _Hop | None:
    """The hop from the row a per-row query was made for to the `model` row whose key is `value`,
    when the project frame holds no `model` row of that key but one row of another model whose
    foreign key to `model` has it (`Loan.objects.filter(book=r.book_id)` for each review `r`); None
    otherwise, or when rows of two models could be it."""
    if frame is None or value is None:
        return None
    value = getattr(value, "pk", value)
    try:
        rows = [v for v in frame.f_locals.values() if isinstance(v, Model)]
    except Exception as exc:  # a frame whose locals cannot be read: the key's own model's rows
        logger.debug("perftoolkit: the rows of a per-row query not looked for (%r)", exc)
        return None
    if not rows or any(isinstance(r, model) and equal(r.pk, value) for r in rows):
        return None
    found: Any = None
    for row in rows:
        for key in _keys_to(type(row), model):
            # From the instance's dict: a deferred key is not loaded (no query of our own).
            if key.attname in row.__dict__ and equal(row.__dict__[key.attname], value):
                if found is not None and found is not key:
                    return None
                found = key
    if found is None:
        return None
    return _Hop(
        str(found.name), str(found.name), str(found.related_query_name()), False, found, "forward"
    )


@lru_cache(maxsize=512)
def _keys_to(model: Any, target: Any) -> tuple[Any, ...]:
    """The concrete foreign keys (and one-to-ones) of `model` to `target`."""
    return tuple(
        f
        for f in model._meta.concrete_fields
        if getattr(f, "many_to_one", False) or getattr(f, "one_to_one", False)
        if getattr(f, "related_model", None) is target and getattr(f, "attname", None)
    )


class _Hop(NamedTuple):
    """One step of a walk back from a filtered model to the rows' model."""

    accessor: str  # the attribute the rows' side reads
    lookup: str  # how a lookup names the step
    forward: str  # how a lookup names it walking the other way
    many: bool
    key: Any  # the foreign key (or many-to-many) it crosses
    direction: str  # "reverse": into the key's model; "forward"; "m2m"


def _through_hops_as_m2m(hops: list[_Hop]) -> list[_Hop]:
    """Into a many-to-many's through table and out by its other key is the many-to-many itself.

    Django's own queries of an m2m (a prefetch of `book.tags`) join the auto-created through
    model, whose reverse accessor (`Book_tags+`) is hidden: no lookup may name it. The pair of
    hops becomes the m2m field (`tags`), or its reverse accessor from the other side. A hidden
    hop that is not such a pair stays as it is (no lookup can express it).
    """
    out: list[_Hop] = []
    index = 0
    while index < len(hops):
        hop = hops[index]
        after = hops[index + 1] if index + 1 < len(hops) else None
        merged = _m2m_hop(hop, after) if after is not None and _hidden(hop.accessor) else None
        if merged is not None:
            out.append(merged)
            index += 2
        else:
            out.append(hop)
            index += 1
    return out


def _hidden(accessor: str) -> bool:
    """A reverse accessor Django does not put on the model (`related_name` ending in "+")."""
    return accessor.endswith("+")


def _m2m_hop(into: _Hop, out: _Hop) -> _Hop | None:
    key_in, key_out = into.key, out.key
    if into.direction != "reverse" or out.direction != "forward":
        return None
    through = getattr(key_in, "model", None)
    if through is None or getattr(key_out, "model", None) is not through:
        return None
    for side in (key_in.related_model, key_out.related_model):
        for m2m in getattr(getattr(side, "_meta", None), "many_to_many", ()):
            if getattr(m2m.remote_field, "through", None) is not through:
                continue
            source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
            if (key_in.name, key_out.name) == (source, target) or (
                m2m.remote_field.symmetrical and {key_in.name, key_out.name} == {source, target}
            ):
                return _Hop(m2m.name, m2m.name, str(m2m.related_query_name()), True, m2m, "m2m")
            if (key_in.name, key_out.name) == (target, source):
                accessor = str(m2m.remote_field.get_accessor_name() or "")
                return _Hop(accessor, str(m2m.related_query_name()), m2m.name, True, m2m, "m2m")
    return None


def _unchanged(child: Any, params: Any, first_params: Any) -> bool:
    """Whether a lookup's value is, at its place among the parameters, the same in both runs,
    whose parameters differ elsewhere."""
    if not isinstance(params, list | tuple) or not isinstance(first_params, list | tuple):
        return False
    if len(params) != len(first_params) or equal(params, first_params):
        return False
    value = getattr(child, "rhs", None)
    value = getattr(value, "pk", value)  # a row given as the value: its key is the parameter
    try:
        index = params.index(value)
    except ValueError:  # not among the parameters: not known to be the same
        return False
    except Exception as exc:  # a parameter whose comparison fails
        logger.debug("perftoolkit: parameters not compared (%r)", exc)
        return False
    return equal(first_params[index], value)


def equal(a: Any, b: Any) -> bool:
    """Whether two parameter values are equal; False for a type whose comparison fails (not
    known to be equal)."""
    try:
        return bool(a == b)
    except Exception as exc:
        logger.debug("perftoolkit: parameters not compared (%r)", exc)
        return False


def _generic_lookups(
    queryset: Any, children: list[Any], varying: list[Any], via: RelationVia
) -> tuple[Relation, ...]:
    """`Comment.objects.filter(content_type=ct, object_id=pk)`: the GenericRelations it serves
    (the content type is the same for every row; the object id must be among the `varying`)."""
    columns, ids = _columns(children), _columns(varying)
    model = queryset.model
    for gfk in model._meta.private_fields:
        ct_field, fk_field = getattr(gfk, "ct_field", None), getattr(gfk, "fk_field", None)
        if ct_field in columns and fk_field in ids:
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


def _columns(children: list[Any]) -> set[Any]:
    return {
        getattr(getattr(getattr(c, "lhs", None), "target", None), "name", None) for c in children
    }


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

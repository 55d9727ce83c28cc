"""Real values for a route's path parameters, from rows of the project's database.

A parameter is filled, in this order, from: the view's own lookup (DRF `lookup_url_kwarg` /
`lookup_field`, a DetailView's `pk_url_kwarg` / `slug_url_kwarg`) on rows of the view's queryset
(built as the profile's user would get it); the model a function view looks it up in
(`get_object_or_404(Plan, pk=id)`); a foreign key of the view's model named like the parameter
(`course_pk`, or `pk` after `courses/` in a list of reviews; one or two hops; the related rows
themselves when the view's model has none); a model named like it (the user's own rows first);
the sections of Django's sitemap view; today for date parts (`year`, `month`, `day`); and, for a
parameter a function view never reads, any value of its converter's type. A parameter none of
these explains is not filled: the route is listed as skipped with the reason, never guessed.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from django.apps import apps
from django.core.exceptions import FieldError
from django.db.models import Manager, Model, QuerySet
from django.urls import Resolver404, resolve

from perftoolkit.audit.endpoints import (
    ViewInfo,
    lookup_of,
    view_instance,
    view_model,
    view_queryset,
)
from perftoolkit.audit.viewsource import (
    Lookup,
    class_source,
    function_lookups,
    unused_parameters,
)
from perftoolkit.core.routes import CONVERTER_SAMPLES, fill_route, route_parameters
from perftoolkit.urlconf import UrlEntry, match_key

logger = logging.getLogger("perftoolkit")
ROWS = 10  # paths per parameterised task: rows of the database a request picks from
_SUFFIXES = ("_pk", "_id", "_slug", "_uuid", "_key", "_code")
_DATE_PARTS = {"year": "%Y", "month": "%m", "day": "%d"}


@dataclass(frozen=True, slots=True)
class Filled:
    """Concrete paths for a route, and where their values came from (one phrase)."""

    paths: tuple[str, ...]
    source: str
    rows: tuple[Model, ...] = ()  # the view's rows the paths were built from, when they were


@dataclass(frozen=True, slots=True)
class _Source:
    """Where one parameter's values come from: the n-th row of the view (`per_row`), or the
    n-th of a list of its own; and how the task's comment says so."""

    get: Callable[[Any], str | None]
    said: str
    per_row: bool = True
    # For values of a model's rows listed apart (per_row False): the model, column and filters,
    # so two parameters from one model can take theirs from one row.
    model: Any = None
    column: str = ""
    filters: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class _View:
    """What the view knows: its model, its rows as the user sees them, how it finds one."""

    info: ViewInfo
    entry: UrlEntry
    view: Any
    model: Any
    rows: list[Model]
    lookup: tuple[str, str] | None
    owned: Callable[[type[Model]], QuerySet[Any]]


def fill_parameters(
    entry: UrlEntry,
    info: ViewInfo,
    user: Any,
    owned: Callable[[type[Model]], QuerySet[Any]],
) -> Filled | str:
    """Paths that resolve to `entry`'s route with real values, or why there are none."""
    params = route_parameters(entry.key)
    if not params:
        return Filled((fill_route(entry.key, []),), "")
    view = view_instance(info, user)
    queryset = view_queryset(view) if view is not None else None
    model = view_model(view, queryset) if view is not None else None
    rows = _rows(queryset if queryset is not None else owned(model), ROWS * 20) if model else []
    known = _View(info, entry, view, model, rows, lookup_of(info, view), owned)
    known = _joint_rows(known, {name for _, name in params})
    literal = _literal_before(entry.key)
    sources: list[_Source] = []
    for index, (converter, name) in enumerate(params):
        found = _source(known, converter, name, literal[index], seen_by=user)
        if isinstance(found, str):
            return found
        sources.append(found)
    per_row = any(s.per_row for s in sources)
    candidates: list[Model | None] = list(known.rows) if per_row else [None] * ROWS
    if not per_row:
        sources, shared = _one_row(sources, known.owned)
        if shared:
            candidates, per_row = list(shared), True
    paths: list[str] = []
    kept: list[Model] = []
    for n, row in enumerate(candidates):
        got = [s.get(row) if s.per_row else s.get(n) for s in sources]
        values = [v for v in got if v is not None]
        if len(values) != len(got):
            continue
        path = fill_route(
            entry.key,
            [
                quote(v, safe="/" if converter == "path" else "")
                for (converter, _), v in zip(params, values, strict=True)
            ],
        )
        if path not in paths and _resolves_to(path, entry.key):
            paths.append(path)
            if row is not None:
                kept.append(row)
            if len(paths) == ROWS:
                break
    said = "; ".join(s.said for s in sources)
    if not paths:
        return f"the values found do not match the pattern ({said})"
    return Filled(tuple(paths), said, tuple(kept))


def _source(
    known: _View, converter: str | None, name: str, literal: str, *, seen_by: Any
) -> _Source | str:
    model, rows = known.model, known.rows
    seen = " the user can see" if seen_by is not None else ""
    lookup = known.lookup
    if model is not None and lookup and name == lookup[0] and known.info.detail is not False:
        if not rows:
            return f"no {_label(model)} rows{seen}"
        return _Source(_from_row(lookup[1]), f"{name} from {_label(model)} rows")
    slug_kwarg = getattr(known.view, "slug_url_kwarg", None) if not known.info.drf else None
    if model is not None and isinstance(slug_kwarg, str) and name == slug_kwarg:
        if not rows:
            return f"no {_label(model)} rows{seen}"
        slug_field = str(known.view.get_slug_field())
        return _Source(_from_row(slug_field), f"{name} from {_label(model)} rows")
    looked_up = _lookups(known).get(name)
    if looked_up is not None:
        if model is not None and rows and looked_up.model is model:
            # The view's own rows: with the other parameters taken from the same row.
            return _Source(
                _matching(model, looked_up, rows),
                f"{name} from {_label(model)}.{looked_up.column.replace('__', '.')}",
            )
        relation = _foreign_key(model, name, literal) if model is not None and rows else None
        if relation is not None and relation[0][-1].related_model is looked_up.model:
            # A parent the view also looks up (`product_pk` beside a review's `pk`): the parent
            # of each of the view's rows, so the path names one review of that product.
            keys = relation[0]
            hops = ".".join(k.name for k in keys)
            return _Source(
                _through(keys, looked_up.column, _allowed(looked_up)),
                f"{name} from {_label(model)}.{hops}",
            )
        return _independent(looked_up.model, looked_up.column, name, known.owned, looked_up.filters)
    relation = _foreign_key(model, name, literal, converter) if model is not None else None
    if relation is not None:
        keys, attribute = relation
        if rows:
            hops = ".".join(k.name for k in keys)
            return _Source(_through(keys, attribute), f"{name} from {_label(model)}.{hops}")
        # The view's model has no rows (a list still empty): its parent's rows are the values.
        return _independent(keys[-1].related_model, attribute, name, known.owned)
    own = _own_field(model, name) if model is not None else None
    if own is not None:  # `order_number` or `number` on a view of orders: Order.number
        if not rows:
            return f"no {_label(model)} rows{seen}"
        return _Source(_from_row(own), f"{name} from {_label(model)}.{own}")
    parent = _parent_field(model, name) if model is not None and rows else None
    if parent is not None:  # `number` on a view of order lines: Line.order.number
        fk, column = parent
        return _Source(_through([fk], column), f"{name} from {_label(model)}.{fk.name}.{column}")
    target = _model_named(name, literal)
    if target is not None:
        return _independent(target, _field_for(target, name, converter), name, known.owned)
    for other in _looked_up_models(known):  # `key` on a view that looks up a WishList
        named = _own_field(other, name)
        if named is not None:
            return _independent(other, named, name, known.owned)
    sections = known.entry.default_kwargs.get("sitemaps")
    if name == "section" and isinstance(sections, dict) and sections:
        return _Source(_cycle([str(k) for k in sections]), f"{name}: the sitemap's sections", False)
    if name in _DATE_PARTS and converter in (None, "int", "str"):
        today = datetime.date.today().strftime(_DATE_PARTS[name])
        return _Source(_cycle([today]), f"{name}: today", per_row=False)
    names = tuple(n for _, n in route_parameters(known.entry.key))
    if name in unused_parameters(known.entry.callback, names):
        sample = CONVERTER_SAMPLES.get(converter or "str", "x")
        return _Source(_cycle([sample]), f"{name}: not read by the view", per_row=False)
    return f"nothing says what `{name}` takes (no model or field of that name)"


def _one_row(
    sources: list[_Source], owned: Callable[[type[Model]], QuerySet[Any]]
) -> tuple[list[_Source], list[Model]]:
    """Two or more parameters from rows of one model (a category's slug and pk): their values
    from each row together, not from two lists."""
    models = [s.model for s in sources if s.model is not None]
    model = next((m for m in models if models.count(m) > 1), None)
    if model is None:
        return sources, []
    rows = owned(model)
    for source in sources:
        if source.model is model:
            rows = _filtered(rows, dict(source.filters))
    found = _rows(rows, ROWS * 20)
    if not found:
        return sources, []
    together = [
        replace(s, get=_from_row(s.column), per_row=True) if s.model is model else s
        for s in sources
    ]
    return together, found


def _lookups(known: _View) -> dict[str, Lookup]:
    found = function_lookups(known.entry.callback)
    if known.info.view_class is not None:
        found = {**class_source(known.info.view_class, known.model).lookups, **found}
    return found


def _looked_up_models(known: _View) -> tuple[Any, ...]:
    if known.info.view_class is None:
        return ()
    return tuple(
        m for m in class_source(known.info.view_class, known.model).models if m is not known.model
    )


def _joint_rows(known: _View, names: set[str]) -> _View:
    """The view, its rows those of a lookup that takes two or more of the route's parameters
    together (`get_object_or_404(Line, pk=line_pk, wishlist__key=key)`) when its model is not
    the view's: each path's values then come from one of that lookup's rows."""
    for lookup in _lookups(known).values():
        if len(lookup.together & names) < 2 or lookup.model is known.model:
            continue
        if known.lookup is not None and known.lookup[0] in names - lookup.together:
            continue  # the view's own lookup takes another of the parameters
        found = _rows(_filtered(known.owned(lookup.model), lookup.filters), ROWS * 20)
        if found:
            return replace(known, view=None, model=lookup.model, rows=found, lookup=None)
    return known


def _matching(
    model: Any, lookup: Lookup, rows: list[Model]
) -> Callable[[Model | None], str | None]:
    """A row's value of the lookup's column, for rows that meet the lookup's own conditions."""
    allowed: set[Any] | None = None
    if lookup.filters:
        among = model._default_manager.filter(pk__in=[r.pk for r in rows])
        allowed = set(_filtered(among, lookup.filters).values_list("pk", flat=True))
    column = lookup.column

    def value(row: Model | None) -> str | None:
        if row is None or (allowed is not None and row.pk not in allowed):
            return None
        return _value(row, column)

    return value


def _allowed(lookup: Lookup) -> Callable[[Any], bool] | None:
    """Whether a parent row meets the lookup's own conditions (`is_public=True`)."""
    if not lookup.filters:
        return None
    try:
        matching = lookup.model._default_manager.filter(**lookup.filters)
        pks = set(matching.values_list("pk", flat=True)[: ROWS * 200])
    except (FieldError, TypeError, ValueError) as exc:
        logger.debug(
            "perftoolkit: scaffold: %s's conditions %r refused: %s",
            lookup.model,
            lookup.filters,
            exc,
        )
        return None
    return lambda row: row.pk in pks


def _parent_field(model: Any, name: str) -> tuple[Any, str] | None:
    """The foreign key of `model` whose row has a field the parameter names (`number` on a line
    of an order: (Line.order, "number")), when one parent has it."""
    found = [
        (fk, column)
        for fk in _forward_keys(model)
        if (column := _own_field(fk.related_model, name)) is not None
    ]
    return found[0] if len(found) == 1 else None


def _independent(
    model: Any,
    field: str,
    name: str,
    owned: Callable[[type[Model]], QuerySet[Any]],
    filters: dict[str, Any] | None = None,
) -> _Source | str:
    rows = _filtered(owned(model), filters or {})
    values = list(dict.fromkeys(v for v in (_value(r, field) for r in _rows(rows, ROWS * 20)) if v))
    if not values:
        related = _related(model, field)
        if related is not None:  # no rows yet (a list still empty): the rows it would belong to
            return _independent(related, "pk", name, owned)
        return f"no {_label(model)} rows to take `{name}` from"
    where = (
        f"{_label(model)}.{field.replace('__', '.')}" if field != "pk" else f"{_label(model)} rows"
    )
    return _Source(
        _cycle(values[:ROWS]),
        f"{name} from {where}",
        per_row=False,
        model=model,
        column=field,
        filters=tuple(sorted((filters or {}).items())),
    )


def _filtered(rows: QuerySet[Any], filters: dict[str, Any]) -> QuerySet[Any]:
    """`rows` under a view's own conditions, as written; conditions the ORM refuses (a value of
    another type, a name that is not a field here) are left out, with a debug line."""
    if not filters:
        return rows
    try:
        return rows.filter(**filters)
    except (FieldError, TypeError, ValueError) as exc:
        logger.debug("perftoolkit: scaffold: conditions %r left out: %s", filters, exc)
        return rows


def _related(model: Any, path: str) -> Any:
    """The model a lookup path through relations ends on (`author__publisher` → Publisher)."""
    current = model
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except Exception:  # not a field: an annotation, a property
            return None
        current = field.related_model
        if current is None:
            return None
    return current if current is not model else None


def _rows(queryset: QuerySet[Any], limit: int = ROWS) -> list[Model]:
    try:
        return list(queryset[:limit])
    except Exception:  # a queryset the project builds lazily can still fail when evaluated
        return []


def _from_row(path: str) -> Callable[[Model | None], str | None]:
    def value(row: Model | None) -> str | None:
        return _value(row, path) if row is not None else None

    return value


def _through(
    path: list[Any], attribute: str, allowed: Callable[[Any], bool] | None = None
) -> Callable[[Model | None], str | None]:
    def value(row: Model | None) -> str | None:
        current: Any = row
        for fk in path[:-1]:
            current = getattr(current, fk.name, None) if current is not None else None
        if current is None:
            return None
        last = path[-1]
        if allowed is not None:
            parent = getattr(current, last.name, None)
            if parent is None or not allowed(parent):
                return None
        if attribute == "pk":
            raw = getattr(current, last.attname, None)
            return None if raw is None else str(raw)
        return _value(getattr(current, last.name, None), attribute)

    return value


def _cycle(values: list[str]) -> Callable[[int], str]:
    def cycled(n: int) -> str:
        return values[n % len(values)]

    return cycled


def _value(row: Any, path: str) -> str | None:
    current = row
    for part in path.split("__"):
        if current is None:
            return None
        current = getattr(current, part, None)
        if isinstance(current, Manager):  # a many-valued relation (`partners__pk`): its first row
            current = current.order_by("pk").first()
    if isinstance(current, Model):  # a lookup through a relation (`author__publisher`)
        current = current.pk
    if current is None:
        return None
    text = str(current)
    return text or None


def _label(model: Any) -> str:
    return str(model._meta.label) if model is not None else "?"


def _stem(name: str) -> tuple[str, str]:
    """`course_pk` → ("course", "pk"); `pk` → ("", "pk"); `slug` → ("", "slug")."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix[1:]
    if name in ("pk", "id", "arg", "slug", "uuid"):
        return "", name
    return name, ""


def _literal_before(route: str) -> list[str]:
    """For each placeholder of a route, the literal path segment just before it."""
    out = []
    for match in re.finditer(r"<[^>]+>", route):
        head = route[: match.start()].rstrip("/").split("/")
        out.append(head[-1] if head and "<" not in head[-1] else "")
    return out


def _wanted(name: str, literal: str) -> set[str]:
    """The model names a parameter may stand for: `course_pk` → {"course"}; a bare `pk` after
    `courses/` → the singular forms of "courses" ({"course", "cours", "courses"})."""
    stem, _ = _stem(name)
    word = (stem or literal).lower().replace("-", "").replace("_", "")
    if not word:
        return set()
    if stem:
        return {word}
    forms = {word}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    if word.endswith("es"):
        forms.add(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        forms.add(word[:-1])
    return forms


def _foreign_key(
    model: Any, name: str, literal: str, converter: str | None = None
) -> tuple[list[Any], str] | None:
    """The foreign keys from `model` to the row a parameter names (`course_pk` / `course`, or a
    bare `pk` after `courses/` when the view lists another model's rows): one hop, else two
    (`review.enrollment.course`)."""
    wanted = _wanted(name, literal)
    if not wanted:
        return None
    stem, kind = _stem(name)
    hops = [(fk, [fk]) for fk in _forward_keys(model)]
    for depth in (1, 2):
        for fk, path in hops:
            related = fk.related_model
            names = {fk.name.lower().replace("_", ""), related._meta.model_name}
            if wanted & names:
                return path, _field_for(related, name, converter) if kind or stem else "pk"
        if depth == 1:
            hops = [
                (inner, [fk, inner]) for fk, _ in hops for inner in _forward_keys(fk.related_model)
            ]
    return None


def _forward_keys(model: Any) -> list[Any]:
    return [f for f in model._meta.concrete_fields if f.many_to_one or f.one_to_one]


def _field_for(model: Any, name: str, converter: str | None = None) -> str:
    """Which field of `model` a parameter's value is: its own name when the model has it (`slug`,
    `username`), the model's `slug` for a `<slug:…>` parameter named after the model
    (`<slug:event>`), else the primary key."""
    stem, kind = _stem(name)
    fields = {f.name for f in model._meta.concrete_fields}
    for candidate in (name, kind):
        if candidate and candidate in fields:
            return candidate
    if not kind and stem in fields:
        return stem
    if converter == "slug" and not kind and "slug" in fields:
        return "slug"
    return "pk"


def _own_field(model: Any, name: str) -> str | None:
    """A field of the view's model the parameter names: itself (`number`), or with the model's
    name before it (`order_number` on Order)."""
    fields = {f.name for f in model._meta.concrete_fields if not f.is_relation}
    prefix = f"{model._meta.model_name}_"
    for candidate in (name, name.removeprefix(prefix) if name.startswith(prefix) else ""):
        if candidate and candidate in fields and candidate not in ("id", "pk"):
            return candidate
    return None


def _model_named(name: str, literal: str) -> Any:
    """The one installed model a parameter names (`course_pk`, or `pk` after `courses/`)."""
    wanted = _wanted(name, literal)
    found = [m for m in apps.get_models() if m._meta.model_name in wanted and not _secret(m)]
    return found[0] if len(found) == 1 else None


def _secret(model: Any) -> bool:
    """Rows whose keys are credentials (API tokens, sessions): never copied into a profile."""
    name = model._meta.model_name
    return "token" in name or "session" in name or model._meta.app_label == "authtoken"


def _resolves_to(path: str, key: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match_key(match) == key

"""What each URL pattern of the project serves: its view, the methods it answers, the model behind
its queryset, and real values for its path parameters.

A parameter is filled from rows of the database, found in this order: the view's own lookup
(DRF `lookup_url_kwarg` / `lookup_field`, a DetailView's `pk_url_kwarg` / `slug_url_kwarg`) on rows
of the view's queryset (built as the profile's user would get it); a foreign key of the view's
model named like the parameter (`course_pk`, or `pk` after `courses/` in a list's route); a model
named like it; and, for date parts (`year`, `month`, `day`), today. A parameter none of these
explains is not filled: the route is listed as skipped, never guessed.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, Model, QuerySet, When
from django.test import RequestFactory
from django.urls import Resolver404, resolve

from perftoolkit.core.routes import fill_route, route_key, route_parameters
from perftoolkit.urlconf import UrlEntry

ROWS = 10  # paths per parameterised task: rows of the database a request picks from
_SKIP_METHODS = ("head", "options", "trace")
_SUFFIXES = ("_pk", "_id", "_slug", "_uuid", "_key", "_code")
_DATE_PARTS = {"year": "%Y", "month": "%m", "day": "%d"}


@dataclass(frozen=True, slots=True)
class ViewInfo:
    """The view behind a URL pattern, as far as the scaffold needs it."""

    label: str  # dotted name: "lms.views.courses.CourseDetail"
    view_class: type | None
    initkwargs: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)  # a DRF viewset's method → action
    methods: tuple[str, ...] = ("GET",)
    detail: bool | None = None  # one object (retrieve, DetailView); None: not known
    drf: bool = False

    def action(self, method: str) -> str | None:
        return self.actions.get(method.lower())

    def describe(self, method: str = "GET") -> str:
        action = self.action(method)
        return f"{self.label}.{action}" if action else self.label


@dataclass(frozen=True, slots=True)
class Filled:
    """Concrete paths for a route, and where their values came from (one phrase)."""

    paths: tuple[str, ...]
    source: str
    rows: tuple[Model, ...] = ()  # the view's rows the paths were built from, when they were


def describe_view(entry: UrlEntry) -> ViewInfo:
    callback = entry.callback
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is None:  # a function view: it answers GET, as far as anyone can tell from outside
        label = f"{getattr(callback, '__module__', '')}.{getattr(callback, '__qualname__', '')}"
        return ViewInfo(label=label.strip("."), view_class=None)
    drf = hasattr(cls, "initialize_request")
    actions = dict(getattr(callback, "actions", None) or {})
    initkwargs = dict(
        getattr(callback, "initkwargs", None) or getattr(callback, "view_initkwargs", None) or {}
    )
    if actions:
        methods = tuple(m.upper() for m in actions if m not in _SKIP_METHODS)
    else:
        names = getattr(cls, "http_method_names", ("get",))
        methods = tuple(m.upper() for m in names if m not in _SKIP_METHODS and hasattr(cls, m))
    detail = initkwargs.get("detail")
    if not isinstance(detail, bool):
        detail = _detail_class(cls)
    return ViewInfo(
        label=f"{cls.__module__}.{cls.__qualname__}",
        view_class=cls,
        initkwargs=initkwargs,
        actions=actions,
        methods=methods,
        detail=detail,
        drf=drf,
    )


def _detail_class(cls: type) -> bool | None:
    names = {klass.__name__ for klass in cls.__mro__}
    if names & {"ListModelMixin", "MultipleObjectMixin"}:
        return False
    if names & {"RetrieveModelMixin", "SingleObjectMixin", "UpdateModelMixin"}:
        return True
    return None


def view_instance(info: ViewInfo, user: Any, method: str = "GET", **kwargs: Any) -> Any:
    """The view as a request from `user` would set it up (None when it cannot be built)."""
    if info.view_class is None:
        return None
    request = getattr(RequestFactory(), method.lower())("/")
    request.user = user if user is not None else AnonymousUser()
    try:
        view = info.view_class(**info.initkwargs)
        if info.drf:
            if info.actions:
                view.action_map = dict(info.actions)
            drf_request = view.initialize_request(request, **kwargs)
            drf_request.user = request.user
            view.request, view.args, view.kwargs = drf_request, (), kwargs
            view.format_kwarg, view.headers = None, {}
        else:
            view.setup(request, **kwargs)
    except Exception:  # the project's own code: whatever it raises, the route is skipped, not us
        return None
    return view


def view_queryset(view: Any) -> QuerySet[Any] | None:
    """What the view's `get_queryset()` returns for its request (None when it fails or has none)."""
    getter = getattr(view, "get_queryset", None)
    if getter is None:
        return None
    try:
        queryset = getter()
    except Exception:  # get_queryset may need URL kwargs or a real request: no model then
        return None
    return queryset if isinstance(queryset, QuerySet) else None


def view_model(view: Any, queryset: QuerySet[Any] | None) -> type[Model] | None:
    if queryset is not None:
        return queryset.model
    for name in ("model",):
        model = getattr(view, name, None)
        if isinstance(model, type) and issubclass(model, Model):
            return model
    try:
        serializer = view.get_serializer_class()
    except Exception:  # DRF's default raises when nothing is configured
        return None
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    return model if isinstance(model, type) and issubclass(model, Model) else None


def lookup_of(info: ViewInfo, view: Any) -> tuple[str, str] | None:
    """(URL kwarg, model field) the view finds its one object by, when it does."""
    if view is None:
        return None
    if info.drf:
        lookup_field = getattr(view, "lookup_field", None)
        if isinstance(lookup_field, str):
            return str(getattr(view, "lookup_url_kwarg", None) or lookup_field), lookup_field
        return None
    pk_kwarg = getattr(view, "pk_url_kwarg", None)
    if isinstance(pk_kwarg, str):
        return pk_kwarg, "pk"
    return None


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
    lookup = lookup_of(info, view)
    rows: list[Model] = []
    slug_kwarg = (
        getattr(view, "slug_url_kwarg", None) if view is not None and not info.drf else None
    )
    sources: list[_Source] = []
    described: list[str] = []
    deep = False  # values through a foreign key: many rows share one, so read more rows
    literal = _literal_before(entry.key)
    for index, (converter, name) in enumerate(params):
        if (
            model is not None
            and lookup is not None
            and name == lookup[0]
            and info.detail is not False
        ):
            sources.append(_Source(_from_row(lookup[1])))
            described.append(f"{name} from {_label(model)} rows")
            continue
        if model is not None and isinstance(slug_kwarg, str) and name == slug_kwarg:
            sources.append(_Source(_from_row(str(view.get_slug_field()))))
            described.append(f"{name} from {_label(model)} rows")
            continue
        relation = _foreign_key(model, name, literal[index]) if model is not None else None
        if relation is not None:
            keys, attribute = relation
            sources.append(_Source(_through(keys, attribute)))
            described.append(f"{name} from {_label(model)}.{'.'.join(k.name for k in keys)}")
            deep = True
            continue
        target = _model_named(name, literal[index])
        if target is not None:
            field_name = _field_for(target, name)
            values = [v for v in (_value(r, field_name) for r in _rows(owned(target))) if v]
            if not values:
                return f"no {_label(target)} rows to take `{name}` from"
            sources.append(_Source(_cycle(values), per_row=False))
            described.append(f"{name} from {_label(target)} rows")
            continue
        if name in _DATE_PARTS and converter in (None, "int", "str"):
            today = datetime.date.today().strftime(_DATE_PARTS[name])
            sources.append(_Source(_cycle([today]), per_row=False))
            described.append(f"{name}: today")
            continue
        return f"nothing says what `{name}` takes (no model or field of that name)"
    per_row = any(s.per_row for s in sources)
    if per_row and model is not None:
        rows = _rows(
            queryset if queryset is not None else owned(model), ROWS * 20 if deep else ROWS
        )
    if per_row and not rows:
        seen = " the user can see" if user is not None else ""
        return f"no {_label(model)} rows{seen}"
    candidates: list[Model | None] = list(rows) if per_row else [None] * ROWS
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
    if not paths:
        return "the values found do not match the pattern (" + "; ".join(described) + ")"
    return Filled(tuple(paths), "; ".join(described), tuple(kept))


@dataclass(frozen=True, slots=True)
class _Source:
    """Where one parameter's values come from: the n-th row of the view (`per_row`), or the
    n-th of a list of its own."""

    get: Callable[[Any], str | None]
    per_row: bool = True


def _rows(queryset: QuerySet[Any], limit: int = ROWS) -> list[Model]:
    try:
        return list(queryset[:limit])
    except Exception:  # a queryset the project builds lazily can still fail when evaluated
        return []


def _from_row(path: str) -> Callable[[Model | None], str | None]:
    def value(row: Model | None) -> str | None:
        return _value(row, path) if row is not None else None

    return value


def _through(path: list[Any], attribute: str) -> Callable[[Model | None], str | None]:
    def value(row: Model | None) -> str | None:
        current: Any = row
        for fk in path[:-1]:
            current = getattr(current, fk.name, None) if current is not None else None
        if current is None:
            return None
        last = path[-1]
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
    if current is None or isinstance(current, Model):
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


def _foreign_key(model: Any, name: str, literal: str) -> tuple[list[Any], str] | None:
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
                return path, _field_for(related, name) if kind or stem else "pk"
        if depth == 1:
            hops = [
                (inner, [fk, inner]) for fk, _ in hops for inner in _forward_keys(fk.related_model)
            ]
    return None


def _forward_keys(model: Any) -> list[Any]:
    return [f for f in model._meta.concrete_fields if f.many_to_one or f.one_to_one]


def _field_for(model: Any, name: str) -> str:
    """Which field of `model` a parameter's value is: its own name when the model has it (`slug`,
    `username`), else the primary key."""
    stem, kind = _stem(name)
    fields = {f.name for f in model._meta.concrete_fields}
    for candidate in (name, kind):
        if candidate and candidate in fields:
            return candidate
    if not kind and stem in fields:
        return stem
    return "pk"


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
    return route_key(match.route) == key


def owned_rows(user: Any) -> Callable[[type[Model]], QuerySet[Any]]:
    """Rows of a model, the user's own first: a foreign key to the user model filtered on the
    user, when that leaves any rows (a detail page of someone else's row answers 403 or 404)."""
    user_model = settings.AUTH_USER_MODEL.lower()

    def rows(model: type[Model]) -> QuerySet[Any]:
        queryset = model._default_manager.all()
        if user is None or not getattr(user, "pk", None):
            return queryset
        if model._meta.label_lower == user_model:
            return queryset.order_by(Case(When(pk=user.pk, then=0), default=1), "pk")
        for fk in model._meta.concrete_fields:
            related: Any = fk.related_model
            if fk.many_to_one and related._meta.label_lower == user_model:
                mine = queryset.filter(**{fk.name: user})
                try:
                    if mine.exists():
                        return mine
                except Exception:  # a broken manager: fall back to every row
                    continue
        return queryset

    return rows

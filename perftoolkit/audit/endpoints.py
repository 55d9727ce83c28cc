"""What each URL pattern of the project serves: its view, the methods it answers, the model behind
its queryset as a given user would get it, and how it finds one object (its lookup). The values
for path parameters are in `parameters.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, Model, QuerySet, When
from django.test import RequestFactory

from perftoolkit.urlconf import UrlEntry

_SKIP_METHODS = ("head", "options", "trace")


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


def describe_view(entry: UrlEntry) -> ViewInfo:
    callback = entry.callback
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is None:  # a function view: GET, unless @require_http_methods says otherwise
        label = f"{getattr(callback, '__module__', '')}.{getattr(callback, '__qualname__', '')}"
        return ViewInfo(label=label.strip("."), view_class=None, methods=_allowed(callback))
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


def _allowed(callback: Any) -> tuple[str, ...]:
    """The methods Django's `require_http_methods` (`require_POST`, `require_GET`, …) lets
    through, read from the decorator's closure along the `__wrapped__` chain; else GET."""
    function = callback
    for _ in range(10):
        code = getattr(function, "__code__", None)
        closure = getattr(function, "__closure__", None) or ()
        if code is not None and "request_method_list" in code.co_freevars:
            allowed = closure[code.co_freevars.index("request_method_list")].cell_contents
            methods = tuple(str(m).upper() for m in allowed if str(m).lower() not in _SKIP_METHODS)
            return methods or ("GET",)
        function = getattr(function, "__wrapped__", None)
        if function is None:
            break
    return ("GET",)


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

"""The routes a project's URLconf defines, normalised the way reports key endpoints."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

from perftoolkit.conf import get_settings, settings_cache
from perftoolkit.core.routes import route_key

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.urls import ResolverMatch


@dataclass(frozen=True, slots=True)
class UrlEntry:
    """One URL pattern that serves requests, with the view behind it."""

    route: str  # the joined pattern, as `request.resolver_match.route` reads it
    key: str  # normalised (`core.routes.route_key`): how reports name the endpoint
    callback: Callable[..., Any]
    name: str | None = None
    default_kwargs: dict[str, Any] = field(default_factory=dict)
    app_names: tuple[str, ...] = ()  # of the includes it is under: ("admin",) for the admin site


def url_entries(urlconf: str | None = None) -> list[UrlEntry]:
    """Every URL pattern of the URLconf (settings.ROOT_URLCONF by default), in URLconf order.

    Joined the way Django builds `request.resolver_match.route`, so the keys are what the
    middleware records.
    """
    from django.urls import LocalePrefixPattern, URLResolver, get_resolver

    entries: list[UrlEntry] = []

    def walk(
        patterns: Iterable[Any],
        prefix: str,
        unprefixed: str,
        kwargs: dict[str, Any],
        apps: tuple[str, ...],
    ) -> None:
        for pattern in patterns:
            route = _join(prefix, str(pattern.pattern))
            # i18n_patterns(): the active language's prefix is in the route, not in the key
            own = "" if isinstance(pattern.pattern, LocalePrefixPattern) else str(pattern.pattern)
            keyed = _join(unprefixed, own)
            if isinstance(pattern, URLResolver):
                inner = (*apps, pattern.app_name) if pattern.app_name else apps
                more = {**kwargs, **pattern.default_kwargs}
                walk(pattern.url_patterns, route, keyed, more, inner)
            else:
                entries.append(
                    UrlEntry(
                        route=route,
                        key=route_key(keyed),
                        callback=pattern.callback,
                        name=pattern.name,
                        default_kwargs={**kwargs, **pattern.default_args},
                        app_names=apps,
                    )
                )

    walk(get_resolver(urlconf).url_patterns, "", "", {}, ())
    return entries


def match_key(match: ResolverMatch) -> str:
    """The endpoint key of a resolved request (`core.routes.route_key` of its route), the
    language prefix of i18n_patterns() left out: `en/crm/deal/` and `de/crm/deal/` are one
    endpoint, `crm/deal/`."""
    return route_key(without_language(match.route))


def without_language(route: str) -> str:
    """`route` without a leading language prefix, when the URLconf has i18n_patterns()."""
    head, slash, rest = route.partition("/")
    if slash and head in _language_prefixes():
        return rest
    return route


@settings_cache(maxsize=1)
def _language_prefixes() -> frozenset[str]:
    """The language codes a route can start with: none unless the URLconf uses i18n_patterns()."""
    from django.conf import settings
    from django.conf.urls.i18n import is_language_prefix_patterns_used

    if not getattr(settings, "ROOT_URLCONF", None):
        return frozenset()
    try:
        used, _ = is_language_prefix_patterns_used(settings.ROOT_URLCONF)
    except Exception as exc:  # a URLconf that does not import: its routes are keyed as they are
        logger.debug("perftoolkit: language prefixes not known (%r)", exc)
        return frozenset()
    if not used:
        return frozenset()
    return frozenset(code for code, _ in settings.LANGUAGES)


def url_routes(urlconf: str | None = None) -> frozenset[str]:
    """Every route pattern of the URLconf (settings.ROOT_URLCONF by default), normalised (the
    site root as "/").

    Joined the way Django builds `request.resolver_match.route`, so a budget file's keys can be
    checked against what the middleware will record.
    """
    return frozenset(entry.key for entry in url_entries(urlconf))


def configured_routes() -> frozenset[str] | None:
    """`url_routes()` and the route keyers' keys when Django settings are configured, else None
    (no check possible)."""
    from django.conf import settings

    if not settings.configured or not getattr(settings, "ROOT_URLCONF", None):
        return None
    return url_routes() | keyer_routes()


def _join(prefix: str, route: str) -> str:
    # Django's URLResolver._join_route: a nested regex loses its leading anchor.
    return route if not prefix else prefix + route.removeprefix("^")


# Route keyers ------------------------------------------------------------------------------------
#
# A catch-all pattern (Wagtail's `^((?:[\w\-]+/)*)$`) would make one endpoint of a whole site. A
# route keyer names such a request by what answered it instead: `(request, resolver_match) -> key
# or None`, listed by dotted path in PERFTOOLKIT["ROUTE_KEYERS"]. A keyer may say which views it is
# for (`views`, dotted view paths, so other requests cost one dict lookup) and which keys it can
# produce (`routes()`, so budget files naming them pass the stale-route check).

logger = logging.getLogger("perftoolkit")


class RouteKeyer(Protocol):
    def __call__(self, request: HttpRequest, match: ResolverMatch) -> str | None: ...


@settings_cache(maxsize=1)
def _keyer_table() -> tuple[dict[str, tuple[RouteKeyer, ...]], tuple[RouteKeyer, ...]]:
    """The keyers to ask, in settings order: for each view some keyer is for, and for any other
    view (those without `views`, usually none)."""
    keyers = _loaded_keyers()
    general = tuple(k for k in keyers if not getattr(k, "views", None))
    views = {view for k in keyers for view in getattr(k, "views", None) or ()}
    by_view = {
        view: tuple(k for k in keyers if view in (getattr(k, "views", None) or (view,)))
        for view in views
    }
    return by_view, general


def _loaded_keyers() -> list[RouteKeyer]:
    keyers: list[RouteKeyer] = []
    for path in get_settings().route_keyers:
        try:
            keyers.append(load_route_keyer(path))
        except ImportError as exc:  # the system check perftoolkit.E015 names it
            logger.warning("perftoolkit: %s", exc)
    return keyers


def load_route_keyer(path: str) -> RouteKeyer:
    """The keyer at a dotted path (`ImportError` saying why when there is none)."""
    module, _, name = path.rpartition(".")
    try:
        keyer = getattr(importlib.import_module(module), name) if module else None
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"Route keyer {path!r} cannot be imported ({exc}).") from None
    if not callable(keyer):
        raise ImportError(f"Route keyer {path!r} is not callable.")
    return cast(RouteKeyer, keyer)


def keys_view(view: str) -> bool:
    """Whether some route keyer may key requests of `view` (a dotted view path)."""
    by_view, general = _keyer_table()
    return bool(by_view.get(view, general))


def keyed_route(request: HttpRequest, match: ResolverMatch) -> str | None:
    """The endpoint key a route keyer gives this request, or None when none applies (the URL
    pattern keys it). Never raises: a failing keyer is logged and the pattern is used."""
    by_view, general = _keyer_table()
    for keyer in by_view.get(match._func_path, general):
        try:
            key = keyer(request, match)
        except Exception:
            logger.warning("perftoolkit: route keyer %r failed", keyer, exc_info=True)
            continue
        if key:
            return key
    return None


def view_path(callback: Callable[..., Any]) -> str:
    """The dotted path Django's ResolverMatch gives a view (`_func_path`), which keyers name."""
    func: Any = getattr(callback, "view_class", None) or callback
    if not hasattr(func, "__name__"):
        return f"{type(func).__module__}.{type(func).__name__}"
    return f"{func.__module__}.{func.__name__}"


def keyer_examples(view: str, limit: int = 3) -> dict[str, tuple[str, ...]] | None:
    """For a view some keyer keys (Wagtail's serve): each key it can produce, with up to `limit`
    paths that a GET of is keyed so (a load-test profile requests those paths under that key);
    None when no keyer of this view can say."""
    by_view, _ = _keyer_table()
    for keyer in by_view.get(view, ()):
        examples = getattr(keyer, "examples", None)
        if callable(examples):
            try:
                return dict(examples(limit))
            except Exception:
                logger.warning(
                    "perftoolkit: route keyer %r cannot give examples", keyer, exc_info=True
                )
    return None


def keyer_routes() -> frozenset[str]:
    """Every key the configured keyers can produce (those that can say)."""
    routes: set[str] = set()
    for keyer in _loaded_keyers():
        known = getattr(keyer, "routes", None)
        if callable(known):
            routes.update(known())
    return frozenset(routes)


class WagtailPageKeyer:
    """A page Wagtail's serve view answered: `wagtail:<app_label>.<PageModel>` of its specific
    class (`GET wagtail:blog.BlogIndexPage`), read from the route Wagtail cached on the request
    (`request._wagtail_route_for_request`), so keying runs no query."""

    views = ("wagtail.views.serve",)
    prefix = "wagtail:"

    def __call__(self, request: HttpRequest, match: ResolverMatch) -> str | None:
        found = getattr(request, "_wagtail_route_for_request", None)
        page = found[0] if found else None
        if page is None:
            return None
        model = type(page)
        if model._meta.label == "wagtailcore.Page":  # a page read without its specific class
            model = getattr(page, "specific_class", None) or model
        return f"{self.prefix}{model._meta.app_label}.{model._meta.object_name}"

    def routes(self) -> frozenset[str]:
        from django.apps import apps

        if not apps.is_installed("wagtail"):
            return frozenset()
        from wagtail.models import get_page_models

        return frozenset(
            f"{self.prefix}{m._meta.app_label}.{m._meta.object_name}" for m in get_page_models()
        )

    def examples(self, limit: int) -> dict[str, tuple[str, ...]]:
        """Up to `limit` live pages of each page class, by the path the default site serves
        them at (pages of other sites or without a URL are left out)."""
        from wagtail.models import Page, Site

        site = Site.objects.filter(is_default_site=True).first()
        found: dict[str, list[str]] = {}
        pages = Page.objects.live().specific().order_by("path")
        for page in pages.iterator(chunk_size=200):
            model = type(page)
            key = f"{self.prefix}{model._meta.app_label}.{model._meta.object_name}"
            paths = found.setdefault(key, [])
            if len(paths) >= limit:
                continue
            parts = page.get_url_parts()
            if parts is None or (site is not None and parts[0] != site.pk):
                continue
            paths.append(parts[2])
        return {key: tuple(paths) for key, paths in sorted(found.items()) if paths}


wagtail_page_route = WagtailPageKeyer()

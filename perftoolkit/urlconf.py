"""The routes a project's URLconf defines, normalised the way reports key endpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from perftoolkit.core.routes import route_key


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
    from django.urls import URLResolver, get_resolver

    entries: list[UrlEntry] = []

    def walk(
        patterns: Iterable[Any], prefix: str, kwargs: dict[str, Any], apps: tuple[str, ...]
    ) -> None:
        for pattern in patterns:
            route = _join(prefix, str(pattern.pattern))
            if isinstance(pattern, URLResolver):
                inner = (*apps, pattern.app_name) if pattern.app_name else apps
                walk(pattern.url_patterns, route, {**kwargs, **pattern.default_kwargs}, inner)
            else:
                entries.append(
                    UrlEntry(
                        route=route,
                        key=route_key(route),
                        callback=pattern.callback,
                        name=pattern.name,
                        default_kwargs={**kwargs, **pattern.default_args},
                        app_names=apps,
                    )
                )

    walk(get_resolver(urlconf).url_patterns, "", {}, ())
    return entries


def url_routes(urlconf: str | None = None) -> frozenset[str]:
    """Every route pattern of the URLconf (settings.ROOT_URLCONF by default), normalised (the
    site root as "/").

    Joined the way Django builds `request.resolver_match.route`, so a budget file's keys can be
    checked against what the middleware will record.
    """
    return frozenset(entry.key for entry in url_entries(urlconf))


def configured_routes() -> frozenset[str] | None:
    """`url_routes()` when Django settings are configured, else None (no check possible)."""
    from django.conf import settings

    if not settings.configured or not getattr(settings, "ROOT_URLCONF", None):
        return None
    return url_routes()


def _join(prefix: str, route: str) -> str:
    # Django's URLResolver._join_route: a nested regex loses its leading anchor.
    return route if not prefix else prefix + route.removeprefix("^")

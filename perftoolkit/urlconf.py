"""The routes a project's URLconf defines, normalised the way reports key endpoints."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from perftoolkit.core.routes import route_key


def url_routes(urlconf: str | None = None) -> frozenset[str]:
    """Every route pattern of the URLconf (settings.ROOT_URLCONF by default), normalised (the
    site root as "/").

    Joined the way Django builds `request.resolver_match.route`, so a budget file's keys can be
    checked against what the middleware will record.
    """
    from django.urls import URLResolver, get_resolver

    routes: set[str] = set()

    def walk(patterns: Iterable[Any], prefix: str) -> None:
        for pattern in patterns:
            route = _join(prefix, str(pattern.pattern))
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            else:
                routes.add(route_key(route))

    walk(get_resolver(urlconf).url_patterns, "")
    return frozenset(routes)


def configured_routes() -> frozenset[str] | None:
    """`url_routes()` when Django settings are configured, else None (no check possible)."""
    from django.conf import settings

    if not settings.configured or not getattr(settings, "ROOT_URLCONF", None):
        return None
    return url_routes()


def _join(prefix: str, route: str) -> str:
    # Django's URLResolver._join_route: a nested regex loses its leading anchor.
    return route if not prefix else prefix + route.removeprefix("^")

"""Route keyers of a project's own, for the tests of the ROUTE_KEYERS setting."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import ResolverMatch


def by_header(request: HttpRequest, match: ResolverMatch) -> str | None:
    """Asked about every request (no `views`): keys those that carry X-Section."""
    section = request.headers.get("X-Section")
    return f"section:{section}" if section else None


def failing(request: HttpRequest, match: ResolverMatch) -> str | None:
    raise RuntimeError("this keyer is broken")

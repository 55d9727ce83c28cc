"""Route patterns as endpoint keys: regex routes read like path() routes."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, partial

_NAMED_GROUP = "(?P<"
# The site root's pattern is empty (`path("")`, `re_path(r"^$")`): it is keyed as "/".
ROOT_ROUTE = "/"


def route_key(route: str) -> str:
    """The endpoint key of a matched route pattern: normalised, the site root as "/".

    >>> route_key("^$"), route_key("api/courses/<int:pk>/")
    ('/', 'api/courses/<int:pk>/')
    """
    return normalize_route(route) or ROOT_ROUTE


@lru_cache(maxsize=1024)
def normalize_route(route: str) -> str:
    """`api/^courses/(?P<pk>[^/.]+)/$` → `api/courses/<pk>/`; converters stay (`<int:pk>`).

    Anchors are dropped, named groups become `<name>`, unnamed groups `<arg>`, escapes are
    unescaped and optional trailing slashes (`/?`) read as `/`.

    >>> normalize_route(r"api/^courses/(?P<pk>[^/.]+)/$")
    'api/courses/<pk>/'
    >>> normalize_route(r"^files/([0-9]+)/?$")
    'files/<arg>/'
    """
    out: list[str] = []
    i, n = 0, len(route)
    while i < n:
        ch = route[i]
        if route.startswith(_NAMED_GROUP, i):
            end = route.index(">", i)
            name = route[i + len(_NAMED_GROUP) : end]
            i = _skip_group(route, i)
            out.append(f"<{name}>")
            continue
        if ch == "(" and route.startswith("(?:", i):
            # A non-capturing group such as DRF's format suffix: keep its literal text.
            close = _skip_group(route, i)
            inner = normalize_route(route[i + 3 : close - 1])
            out.append(inner)
            i = close
            if i < n and route[i] in "?*":
                i += 1
            continue
        if ch == "(":
            i = _skip_group(route, i)
            out.append("<arg>")
            continue
        if ch in "^$":
            i += 1
            continue
        if ch == "\\" and i + 1 < n:
            out.append(route[i + 1])
            i += 2
            continue
        if ch == "?" and out and out[-1] == "/":
            i += 1
            continue
        out.append(ch)
        i += 1
    text = "".join(out)
    return re.sub(r"/{2,}", "/", text)


def _skip_group(route: str, start: int) -> int:
    """Index just past the group opening at `start`, honouring nesting, classes and escapes."""
    depth, i, in_class = 0, start, False
    while i < len(route):
        ch = route[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


# A value each path converter accepts, to turn a route pattern back into a path that resolves.
CONVERTER_SAMPLES = {
    "int": "1",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "slug": "x",
    "str": "x",
    "path": "x",
}
_PLACEHOLDER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


_KEY = re.compile(r"[a-z][a-z0-9_]*:[^/\s]+")


def is_endpoint_key(name: str) -> bool:
    """A route keyer's key (`wagtail:blog.BlogPage`) rather than a URL pattern or path: a
    lowercase prefix and a colon, and no slash anywhere.

    >>> is_endpoint_key("wagtail:blog.BlogPage"), is_endpoint_key("api/<int:pk>/")
    (True, False)
    """
    return _KEY.fullmatch(name) is not None


def request_route(name: str, resolve: Callable[[str], str | None] | None = None) -> str:
    """The route pattern a load-test request name stands for.

    Profiles name their requests by route pattern (`/api/courses/<int:pk>/`); any other name is
    taken as a URL path (`/api/courses/3/?page=2`). `resolve` maps a path to its normalised
    route pattern (the project's URLconf) or None; a pattern is checked against it with sample
    values for its converters, so `<pk>` and `<int:pk>` land on the same endpoint. Without
    `resolve`, or when it matches nothing, the name stands for itself, minus the query string
    and the leading slash.
    """
    if is_endpoint_key(name.strip()):
        return name.strip()  # a profile named its requests by their endpoint key
    path = name.split("?", 1)[0].split("#", 1)[0].strip() or "/"
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    if "<" not in path:
        found = resolve(path if path.startswith("/") else f"/{path}") if resolve else None
        return found if found is not None else path.lstrip("/") or ROOT_ROUTE
    pattern = normalize_route(path.lstrip("/"))
    if resolve is not None:
        for fallback in ("1", "x"):
            probe = _PLACEHOLDER.sub(partial(_sample, fallback=fallback), pattern)
            found = resolve(f"/{probe}")
            if found is not None:
                return found
    return pattern


def _sample(match: re.Match[str], fallback: str) -> str:
    converter = match["converter"]
    return CONVERTER_SAMPLES.get(converter, "1") if converter else fallback


def route_parameters(route: str) -> list[tuple[str | None, str]]:
    """The placeholders of a normalised route, in order: (converter or None, name).

    >>> route_parameters("api/courses/<int:course_pk>/reviews/<pk>/")
    [('int', 'course_pk'), (None, 'pk')]
    """
    return [(m["converter"], m["name"]) for m in _PLACEHOLDER.finditer(route)]


def fill_route(route: str, values: list[str]) -> str:
    """A URL path from a normalised route: its placeholders replaced by `values`, in order.

    >>> fill_route("api/courses/<int:pk>/reviews/", ["3"])
    '/api/courses/3/reviews/'
    >>> fill_route("/", [])
    '/'
    """
    given = iter(values)
    path = _PLACEHOLDER.sub(lambda m: next(given), route)
    return path if path.startswith("/") else f"/{path}"

from __future__ import annotations

import pytest

from perftoolkit.core.routes import normalize_route, request_route


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("api/^courses/(?P<pk>[^/.]+)/$", "api/courses/<pk>/"),
        ("api/courses/<int:pk>/", "api/courses/<int:pk>/"),
        (r"^api/^courses/(?P<pk>[^/.]+)\.(?P<format>[a-z0-9]+)/?$", "api/courses/<pk>.<format>/"),
        (r"^blog/(\d+)/$", "blog/<arg>/"),
        ("api/^courses/$", "api/courses/"),
        ("api/^$", "api/"),
        (r"^(?P<slug>[-\w]+)/(?:page-(?P<page>\d+)/)?$", "<slug>/page-<page>/"),
        (r"^files/(?P<path>.*(?:\.txt))$", "files/<path>"),
        ("", ""),
    ],
)
def test_normalize_route(route: str, expected: str) -> None:
    assert normalize_route(route) == expected


def _sample_urlconf(path: str) -> str | None:
    """A stand-in URLconf: what perftoolkit.audit.target.resolve_route returns for the sample's routes."""
    known = {
        "/api/courses/": "api/courses/",
        "/api/courses/1/": "api/courses/<int:pk>/",
        "/api/courses/42/": "api/courses/<int:pk>/",
        "/api/files/00000000-0000-0000-0000-000000000000/": "api/files/<uuid:id>/",
    }
    return known.get(path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/api/courses/<int:pk>/", "api/courses/<int:pk>/"),
        ("/api/courses/42/", "api/courses/<int:pk>/"),
        ("/api/courses/?page=2", "api/courses/"),
        ("http://127.0.0.1:8000/api/courses/42/", "api/courses/<int:pk>/"),
        ("/api/files/<uuid:id>/", "api/files/<uuid:id>/"),
        ("/api/courses/<pk>/", "api/courses/<int:pk>/"),
        ("/nowhere/7/", "nowhere/7/"),
    ],
)
def test_request_route_with_urlconf(name: str, expected: str) -> None:
    assert request_route(name, _sample_urlconf) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/api/courses/<int:pk>/", "api/courses/<int:pk>/"),
        ("/api/courses/42/?x=1", "api/courses/42/"),
        ("/", "/"),
    ],
)
def test_request_route_without_urlconf(name: str, expected: str) -> None:
    assert request_route(name) == expected

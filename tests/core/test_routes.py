from __future__ import annotations

import pytest

from perftoolkit.core.routes import normalize_route


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

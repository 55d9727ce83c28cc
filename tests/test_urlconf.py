from __future__ import annotations

from django.test import override_settings
from django.urls import include, path, re_path

from perftoolkit.urlconf import configured_routes, url_routes


def _view(request: object) -> None:
    raise AssertionError("never called")


urlpatterns = [
    path("api/", include([path("courses/", _view), path("courses/<int:pk>/", _view)])),
    re_path(r"^legacy/", include([re_path(r"^items/(?P<pk>[^/.]+)/$", _view)])),
    re_path(r"^health/?$", _view),
    path("", _view),
]


def test_url_routes_normalises_every_pattern() -> None:
    assert url_routes(__name__) == frozenset(
        {"api/courses/", "api/courses/<int:pk>/", "legacy/items/<pk>/", "health/", "/"}
    )


def test_url_routes_match_what_the_middleware_records() -> None:
    from django.urls import resolve

    from perftoolkit.core.routes import route_key

    with override_settings(ROOT_URLCONF=__name__):
        for url in ("/api/courses/7/", "/legacy/items/abc/", "/health", "/"):
            assert route_key(resolve(url).route) in url_routes()


def test_configured_routes_uses_root_urlconf() -> None:
    with override_settings(ROOT_URLCONF=__name__):
        assert configured_routes() == url_routes(__name__)

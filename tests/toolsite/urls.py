from __future__ import annotations

from django.http import HttpRequest
from django.urls import include, path

from tests.urls import urlpatterns as base


def show_toolbar(request: HttpRequest) -> bool:
    return True


# Not debug_toolbar_urls(): it adds nothing when DEBUG is False, as pytest-django makes it.
urlpatterns = [
    *base,
    path("silk/", include("silk.urls", namespace="silk")),
    path("__debug__/", include("debug_toolbar.urls")),
]

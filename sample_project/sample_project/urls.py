from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import include, path

from lms.views.catalog import catalog

urlpatterns = [
    path("api/", include("lms.urls")),
    path("api/", include("campaigns.urls")),
    path("api/", include("projects.urls")),
    path("catalog/", catalog, name="catalog"),
]


def show_toolbar(request: HttpRequest) -> bool:
    """The toolbar on local requests whenever SAMPLE_TOOLS is on, DEBUG or not."""
    return request.META.get("REMOTE_ADDR") in settings.INTERNAL_IPS


if getattr(settings, "SAMPLE_TOOLS", False):
    urlpatterns += [
        path("silk/", include("silk.urls", namespace="silk")),
        path("__debug__/", include("debug_toolbar.urls")),
    ]

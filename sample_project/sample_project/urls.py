from __future__ import annotations

from django.urls import include, path

from lms.views.catalog import catalog

urlpatterns = [
    path("api/", include("lms.urls")),
    path("api/", include("campaigns.urls")),
    path("api/", include("projects.urls")),
    path("catalog/", catalog, name="catalog"),
]

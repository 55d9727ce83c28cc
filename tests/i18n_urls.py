"""A URLconf with i18n_patterns(): `/en/mw/three/` and `/de/mw/three/` are one endpoint."""

from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.urls import path

from tests import views

urlpatterns = [
    path("mw/none/", views.no_queries),
    *i18n_patterns(path("mw/three/", views.three_queries)),
]

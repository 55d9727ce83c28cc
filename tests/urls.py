from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("corpus/", include("tests.corpus.urls"))]

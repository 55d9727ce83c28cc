from __future__ import annotations

from django.urls import include, path
from wagtail import urls as wagtail_urls

from tests.urls import urlpatterns as base

urlpatterns = [*base, path("", include(wagtail_urls))]

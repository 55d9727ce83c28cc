"""Pages whose filled paths answer errors: the scaffold asks each once and leaves those out."""

from __future__ import annotations

from django.urls import path

from tests.scaffoldsite import views

urlpatterns = [
    path("failing/", views.failing_page),
    path("authors/<int:pk>/page/", views.author_or_404),
    path("api/whoami/", views.WhoAmI.as_view()),
    path("loop/a/", views.loop_a),
    path("loop/b/", views.loop_b),
    path("code/", views.off_site),
    path("to-forbidden/", views.to_forbidden),
    path("forbidden/", views.forbidden),
    path("to-page/", views.to_page),
    path("shrugs-off/", views.shrugs_off),
]

"""A view that cannot be inspected outside a request, beside one that can."""

from __future__ import annotations

from django.urls import path

from tests.scaffoldsite import views

urlpatterns = [
    path("models/<str:app_label>/<str:model_name>/<int:pk>/", views.ModelFromUrl.as_view()),
    path("api/whoami/", views.WhoAmI.as_view()),
]

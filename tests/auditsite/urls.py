from __future__ import annotations

from django.urls import path

from tests.auditsite import views

urlpatterns = [
    path("items/", views.items),
    path("items/<int:pk>/", views.item),
    path("cached/", views.cached),
]

from __future__ import annotations

from django.urls import path

from tests.auditsite import views

urlpatterns = [
    path("", views.items),
    path("items/", views.items),
    path("items/<int:pk>/", views.item),
    path("cached/", views.cached),
]

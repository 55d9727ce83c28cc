from __future__ import annotations

from django.urls import path

from projects import views

urlpatterns = [
    path("projects/", views.Projects.as_view(), name="projects"),
]

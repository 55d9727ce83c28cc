from __future__ import annotations

from django.urls import path

from tests.tagged import views

urlpatterns = [
    path("recipes/", views.recipes),
    path("recipes-prefetched/", views.recipes_prefetched),
    path("label-counts/", views.label_counts),
    path("timeline/", views.timeline),
]

from __future__ import annotations

from django.urls import path

from tests.interop import views

urlpatterns = [
    path("inline/", views.inline),
    path("other-kind/", views.other_kind),
    path("template/", views.template),
    path("books/", views.books_page),
]

"""Routes whose views look their rows up in helpers, in `get()`, or two parameters together."""

from __future__ import annotations

from django.urls import path

from tests.scaffoldsite import helper_views

urlpatterns = [
    path("shelves/<int:pk>/", helper_views.ShelfPage.as_view()),
    path("titles/<str:title>/", helper_views.TitlePage.as_view()),
    path("writers/<str:author_name>_<int:pk>/", helper_views.WriterCard.as_view()),
    path("writers/<str:name>/", helper_views.WriterPage.as_view()),
    path("titles/<str:title>/reviews/<int:review_id>/", helper_views.TitleReview.as_view()),
    path("books/<int:book_pk>/reviews/<int:pk>/", helper_views.BookReview.as_view()),
    path("library/<int:book_pk>/reviews/<int:pk>/", helper_views.LibraryReview.as_view()),
    path("authors/<str:name>/reviews/<int:review_pk>/", helper_views.AuthorReview.as_view()),
    path("cards/<str:title>/", helper_views.book_card),
]

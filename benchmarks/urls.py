from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path

from tests.corpus.models import Book


def empty(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


def nplusone(request: HttpRequest) -> JsonResponse:
    """21 queries: the books, then each book's author (the N+1 of 20 the tools are compared on)."""
    books = Book.objects.order_by("id")[:20]
    return JsonResponse({"rows": [[book.title, book.author.name] for book in books]})


urlpatterns = [path("empty/", empty), path("nplusone/", nplusone)]

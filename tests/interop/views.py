"""Views whose N+1s are silenced by inline comments (and one that is not)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from tests.corpus.models import Book


def inline(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")
    names = [book.author.name for book in books]  # perftoolkit: ignore[n_plus_one]
    return JsonResponse({"names": names})


def other_kind(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")
    names = [book.author.name for book in books]  # perftoolkit: ignore[duplicate_query]
    return JsonResponse({"names": names})


def template(request: HttpRequest) -> HttpResponse:
    return render(request, "interop/ignored.html", {"books": Book.objects.order_by("id")})


def books_page(request: HttpRequest) -> HttpResponse:
    """A whole HTML page (the toolbar inserts itself before </body>) with an N+1 in its template."""
    return render(request, "interop/books.html", {"books": Book.objects.order_by("id")})

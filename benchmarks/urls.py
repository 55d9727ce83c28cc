"""The five views of the overhead benchmark, and the floor: a bare `execute_wrapper`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from tests.corpus.models import Book


def empty(request: HttpRequest) -> JsonResponse:
    """No query: the fixed cost of a tool, on a JSON response."""
    return JsonResponse({"ok": True})


def one(request: HttpRequest) -> JsonResponse:
    """One query returning one row."""
    book = Book.objects.order_by("id").first()
    return JsonResponse({"title": book.title if book is not None else None})


def nplusone(request: HttpRequest) -> JsonResponse:
    """21 queries: the books, then each book's author (the N+1 of 20 the tools are compared on)."""
    books = Book.objects.order_by("id")[:20]
    return JsonResponse({"rows": [[book.title, book.author.name] for book in books]})


def hundred(request: HttpRequest) -> JsonResponse:
    """101 queries: the N+1 of 100."""
    books = Book.objects.order_by("id")[:100]
    return JsonResponse({"rows": [[book.title, book.author.name] for book in books]})


def rows(request: HttpRequest) -> JsonResponse:
    """One query returning 100 rows."""
    books = Book.objects.order_by("id").values_list("id", "title")[:100]
    return JsonResponse({"rows": list(books)})


class PassThrough:
    """A middleware that does nothing: what any middleware costs Django to call."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        return self.get_response(request)


def floor_middleware(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    """The least a query-capturing tool can do: Django's documented hook appending to a list."""

    def middleware(request: HttpRequest) -> Any:
        queries: list[str] = []

        def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(wrapper):
            return get_response(request)

    return middleware


def always(request: HttpRequest) -> bool:
    return True


urlpatterns = [
    path("empty/", empty),
    path("one/", one),
    path("nplusone/", nplusone),
    path("hundred/", hundred),
    path("rows/", rows),
]
if "silk" in settings.INSTALLED_APPS:
    urlpatterns.append(path("silk/", include("silk.urls", namespace="silk")))
if "debug_toolbar" in settings.INSTALLED_APPS:
    urlpatterns.append(path("__debug__/", include("debug_toolbar.urls")))

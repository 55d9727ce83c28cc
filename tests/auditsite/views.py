from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse


def _one(value: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s", [value])
        row = cursor.fetchone()
    return int(row[0])


def items(request: HttpRequest) -> JsonResponse:
    # One statement per row, from one line: the shape the N+1 detector looks for.
    return JsonResponse({"items": [_one(n) for n in range(5)]})


def item(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse({"id": _one(pk)})


def cached(request: HttpRequest) -> JsonResponse:
    value = cache.get("answer")
    if value is None:
        value = _one(42)
        cache.set("answer", value, 60)
    return JsonResponse({"answer": value})

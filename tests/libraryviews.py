"""A view that the capture takes for library code (tests name it in IGNORE_MODULES): what runs a
statement with no project line, as a session store or DRF's authentication does."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from tests.corpus.models import Book


def library_count(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"books": Book.objects.filter(title__startswith="b").count()})

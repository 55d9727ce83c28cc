from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from tests.tagged.models import Recipe


def recipes(request: HttpRequest) -> HttpResponse:
    rows = Recipe.objects.order_by("id")
    return render(request, "tagged/recipes.html", {"recipes": rows})  # origin: recipes


def recipes_prefetched(request: HttpRequest) -> HttpResponse:
    rows = Recipe.objects.order_by("id").prefetch_related("labels")
    return render(request, "tagged/recipes.html", {"recipes": rows})


def label_counts(request: HttpRequest) -> JsonResponse:
    rows = Recipe.objects.order_by("id")
    return JsonResponse({"counts": [r.labels.count() for r in rows]})  # case: label_counts

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from tests.tagged.models import Menu, Recipe


def recipes(request: HttpRequest) -> HttpResponse:
    rows = Recipe.objects.order_by("id")
    return render(request, "tagged/recipes.html", {"recipes": rows})  # origin: recipes


def recipes_prefetched(request: HttpRequest) -> HttpResponse:
    rows = Recipe.objects.order_by("id").prefetch_related("labels")
    return render(request, "tagged/recipes.html", {"recipes": rows})


def label_counts(request: HttpRequest) -> JsonResponse:
    rows = Recipe.objects.order_by("id")
    return JsonResponse({"counts": [r.labels.count() for r in rows]})  # case: label_counts


def timeline(request: HttpRequest) -> HttpResponse:
    """One template node reads the labels of two models: taggit runs the same statement for
    both, and each is its own N+1, fixed where its own rows are queried."""
    # One line each: Python 3.12+ reports a multi-line comprehension's rows at another line.
    recipes, menus = Recipe.objects.order_by("id"), Menu.objects.order_by("id")
    events = [{"title": r.title, "labels": r.labels.all()} for r in recipes]  # origin: tl-recipes
    events += [{"title": m.name, "labels": m.labels.all()} for m in menus]  # origin: tl-menus
    return render(request, "tagged/timeline.html", {"events": events})

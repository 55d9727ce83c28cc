"""The server-rendered catalogue page: an N+1 that lives in a template."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lms.views.courses import published_courses
from sample_project.variant import optimized

CATALOG_SIZE = 20


def catalog(request: HttpRequest) -> HttpResponse:
    courses = published_courses()
    if optimized():
        courses = courses.select_related("instructor", "category")
    return render(request, "lms/catalog.html", {"courses": courses[:CATALOG_SIZE]})

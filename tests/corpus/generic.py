"""A project's own generic view, in a module of its own (a base every list page of the project
derives from): its get() renders whatever queryset a subclass names."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View


class RenderingListView(View):
    queryset: Any = None
    template_name = "corpus/books.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"books": self.queryset.all()})

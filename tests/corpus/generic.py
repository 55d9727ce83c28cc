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


class OffsetPages:
    """A project's own paginator (NetBox's OptionalLimitOffsetPagination): it evaluates the rows
    of the queryset it is handed, which it did not build."""

    display_page_controls = False

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        self.count = queryset.count()
        return list(queryset[0:20])

    def get_paginated_response(self, data: Any) -> Any:
        from rest_framework.response import Response

        return Response({"count": self.count, "results": data})

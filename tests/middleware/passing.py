"""A project's middleware that only hands the request on (an API version header, say)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class HandsOn:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)  # passing: the rest of the request runs here
        response["X-Version"] = "1"
        return response

"""A deliberate slowdown, for testing latency verdicts: `SAMPLE_SLOW_VIEW=api/courses/` makes
every request to that route take twice as long as it would (it sleeps as long again as the
request took), so a comparison with a run without it must call that endpoint slower.

Off unless the variable is set; the route is written as reports show it (`api/courses/<int:pk>/`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

SLOW_VIEW_ENV = "SAMPLE_SLOW_VIEW"


class SlowViewMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.route = os.environ.get(SLOW_VIEW_ENV, "").strip().lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if self.route and match is not None and match.route == self.route:
            time.sleep(time.perf_counter() - start)
        return response


def slowdown_middleware() -> list[str]:
    """The middleware to list after perftoolkit's (so its timing includes the sleep), or none."""
    return [f"{__name__}.SlowViewMiddleware"] if os.environ.get(SLOW_VIEW_ENV) else []

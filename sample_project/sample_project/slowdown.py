"""A deliberate slowdown, for testing latency verdicts: `SAMPLE_SLOW_VIEW=api/courses/` makes
every request to that route take twice as long as it would, so a comparison with a run without it
must call that endpoint slower.

Each request sleeps as long again as it ran: its wall time less the time its thread waited for a
CPU (Linux's schedstat; the wall time elsewhere). On an idle machine that is its wall time; on a
busy one, sleeping for the wall time would add the machine's load to the slowdown and make it
look larger than 2× in the time the verdicts compare.

Off unless the variable is set; the route is written as reports show it (`api/courses/<int:pk>/`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

SLOW_VIEW_ENV = "SAMPLE_SLOW_VIEW"
SCHEDSTAT = "/proc/thread-self/schedstat"


class SlowViewMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.route = os.environ.get(SLOW_VIEW_ENV, "").strip().lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start, waited = time.perf_counter(), cpu_wait_s()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if self.route and match is not None and match.route == self.route:
            ran = time.perf_counter() - start - (cpu_wait_s() - waited)
            time.sleep(max(0.0, ran))
        return response


def cpu_wait_s() -> float:
    """Seconds this thread has waited for a CPU so far (0 where Linux does not say)."""
    try:
        with open(SCHEDSTAT, "rb") as handle:
            return int(handle.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def slowdown_middleware() -> list[str]:
    """The middleware to list after perftoolkit's (so its timing includes the sleep), or none."""
    return [f"{__name__}.SlowViewMiddleware"] if os.environ.get(SLOW_VIEW_ENV) else []

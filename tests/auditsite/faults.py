"""A middleware that breaks perftoolkit's per-query hook in the server process (tests only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from perftoolkit.middleware.capture.capture import QueryCapture


class InjectedFault(Exception):
    pass


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise InjectedFault("injected into the per-query hook")


class FaultyQueryHook:
    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        QueryCapture._record = _boom  # type: ignore[method-assign]
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)

"""Diagnosis at run time: the middleware users put first in MIDDLEWARE
(`perftoolkit.middleware.QueryBudgetMiddleware`), the capture it runs (`capture/`), the
configured detectors, and the record format: `recorder.py` writes a record directory and
`recording.py` reads one back into a run.

The middleware is imported on first use, so the record reader (used by the CLI outside any
Django project) does not pull in Django's request handling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perftoolkit.middleware.query_budget import QueryBudgetMiddleware

__all__ = ["QueryBudgetMiddleware"]


def __getattr__(name: str) -> Any:
    if name == "QueryBudgetMiddleware":
        from perftoolkit.middleware.query_budget import QueryBudgetMiddleware

        return QueryBudgetMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

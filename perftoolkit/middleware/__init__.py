"""The middleware users put first in MIDDLEWARE: `perftoolkit.middleware.QueryBudgetMiddleware`."""

from __future__ import annotations

from perftoolkit.middleware.query_budget import QueryBudgetMiddleware

__all__ = ["QueryBudgetMiddleware"]

"""`from perftoolkit.testing import query_budget`: the budget block for tests, at its public path.

It lives with the rest of budgets in `perftoolkit.budgets.block`.
"""

from __future__ import annotations

from perftoolkit.budgets.block import query_budget

__all__ = ["query_budget"]

"""A measured figure in report.json or compare.json: an integer too big for a float is refused
cleanly, not an OverflowError."""

from __future__ import annotations

import pytest

from perftoolkit.reporting import validation


def test_a_huge_integer_is_not_a_figure() -> None:
    with pytest.raises(validation.Invalid):
        validation.number(10**400, "totals.cache_hit_ratio.before")
    validation.number(12, "x")
    validation.number(0.5, "x")

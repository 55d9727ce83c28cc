"""Summary statistics over plain numbers (nearest-rank percentiles, medians)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, `q` in [0, 100]; 0.0 for no values.

    >>> percentile([1, 2, 3, 4], 50)
    2
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    """The middle value (mean of the two middle ones for an even count); 0.0 for none.

    >>> median([7, 1, 3]), median([1, 2, 3, 10]), median([])
    (3, 2.5, 0.0)
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2

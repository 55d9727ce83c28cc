"""Columns of per-request numbers with exact order statistics in bounded memory.

A report's medians and percentiles are exact (the same nearest-rank definitions as `core.stats`),
so every value must be kept: eight bytes a value in an `array`, not a Python float. Past a shared
budget the largest column sorts what it holds and writes it to a temporary file as one sorted run;
an order statistic is then found without merging the runs, by a binary search over the values'
bit patterns (non-negative floats order as their IEEE-754 bits do) that counts, in each run, the
values below the candidate with `bisect`. Memory stays at the budget whatever the number of
requests; the file holds eight bytes a request.
"""

from __future__ import annotations

import bisect
import math
import mmap
import struct
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import IO, Any

# 2**22 values (32 MB) in memory across all columns before the largest is written out.
DEFAULT_BUDGET = 1 << 22
# Values sorted at a time: a million (32 MB of Python floats while sorted).
CHUNK = 1 << 20
_INFINITY_BITS = 0x7FF0000000000000
_DOUBLE = struct.Struct("<d")
_BITS = struct.Struct("<Q")


def _float(bits: int) -> float:
    value: float = _DOUBLE.unpack(_BITS.pack(bits))[0]
    return value


def _bits(value: float) -> int:
    bits: int = _BITS.unpack(_DOUBLE.pack(value))[0]
    return bits


class ValuePool:
    """The memory budget the columns of one run share, and the file they spill to."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self.held = 0
        self.columns: list[ValueColumn] = []
        self._file: IO[bytes] | None = None
        self._written = 0  # values in the file
        self._view: Any = None
        self._map: mmap.mmap | None = None

    def column(self) -> ValueColumn:
        column = ValueColumn(self)
        self.columns.append(column)
        return column

    def _spill(self) -> None:
        largest = max(self.columns, key=lambda c: len(c.memory))
        if self._file is None:
            # Closed by close(), once the run is built (not a `with`: it outlives this call).
            self._file = tempfile.TemporaryFile(prefix="perftoolkit-values-")  # noqa: SIM115
        self._file.seek(0, 2)
        for run in sorted_chunks(largest.memory):
            run.tofile(self._file)
            largest.runs.append((self._written, self._written + len(run)))
            self._written += len(run)
        self.held -= len(largest.memory)
        largest.memory = array("d")
        largest.sorted_memory = []
        self._view = None

    def view(self) -> Any:
        """The spilled values as one memoryview of doubles."""
        if self._view is None:
            assert self._file is not None
            self._file.flush()
            self.close_map()
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
            self._view = memoryview(self._map).cast("d")
        return self._view

    def close_map(self) -> None:
        if self._view is not None:
            self._view.release()
            self._view = None
        if self._map is not None:
            self._map.close()
            self._map = None

    def close(self) -> None:
        self.close_map()
        if self._file is not None:
            self._file.close()
            self._file = None


class ValueColumn:
    """Non-negative finite floats, in any order; exact `percentile` and `median`."""

    def __init__(self, pool: ValuePool) -> None:
        self.pool = pool
        self.memory = array("d")
        self.sorted_memory: list[array[float]] = []  # `memory` as sorted runs, once asked
        self.runs: list[tuple[int, int]] = []  # [start, end) in the pool's file

    def __len__(self) -> int:
        return len(self.memory) + sum(end - start for start, end in self.runs)

    def append(self, value: float) -> None:
        self.memory.append(value + 0.0)  # -0.0 sorts as 0.0
        pool = self.pool
        pool.held += 1
        if pool.held > pool.budget:
            pool._spill()

    def kth(self, k: int) -> float:
        """The value at 0-based rank `k` of the sorted column."""
        if sum(len(run) for run in self.sorted_memory) != len(self.memory):
            self.sorted_memory = list(sorted_chunks(self.memory))
        if not self.runs and len(self.sorted_memory) == 1:
            return self.sorted_memory[0][k]
        runs: list[tuple[Sequence[float], int, int]] = [
            (run, 0, len(run)) for run in self.sorted_memory
        ]
        if self.runs:
            view = self.pool.view()
            runs += [(view, start, end) for start, end in self.runs]
        low, high = 0, _INFINITY_BITS  # the answer's bits are in [low, high]
        while low < high:
            middle = (low + high) // 2
            value = _float(middle)
            below = sum(bisect.bisect_right(seq, value, lo, hi) - lo for seq, lo, hi in runs)
            if below >= k + 1:
                high = middle
            else:
                low = middle + 1
        return _float(low)

    def percentile(self, q: float) -> float:
        """Nearest rank, as `core.stats.percentile`."""
        count = len(self)
        if not count:
            return 0.0
        rank = max(1, math.ceil(q / 100 * count))
        return self.kth(min(rank, count) - 1)

    def median(self) -> float:
        """As `core.stats.median`."""
        count = len(self)
        if not count:
            return 0.0
        middle = count // 2
        if count % 2:
            return self.kth(middle)
        return (self.kth(middle - 1) + self.kth(middle)) / 2


def sorted_chunks(values: array[float]) -> Iterator[array[float]]:
    """`values` as sorted runs of at most CHUNK: sorting goes through Python floats (32 bytes
    each), so a run at a time bounds what sorting holds."""
    if not values:
        yield array("d")
        return
    for start in range(0, len(values), CHUNK):
        yield array("d", sorted(values[start : start + CHUNK]))


def counted_median(counts: Counter[int]) -> float:
    """`core.stats.median` of a multiset given as value → how many times."""
    total = sum(counts.values())
    if not total:
        return 0.0
    ordered = sorted(counts.items())

    def at(rank: int) -> int:
        seen = 0
        for value, n in ordered:
            seen += n
            if rank < seen:
                return value
        raise IndexError(rank)

    middle = total // 2
    if total % 2:
        return at(middle)
    return (at(middle - 1) + at(middle)) / 2

"""Latency as a compact histogram, and the rank test that decides whether it changed.

A run keeps, per endpoint, every request's duration in logarithmic buckets 2 % wide (as
HdrHistogram does): 115 to a tenfold range, each written as its centre with three significant
digits (9.8 ms, 10 ms, 10.2 ms). 100,000 requests fit in a few hundred buckets and a report stays
small, while a 10 % change is still five buckets wide. Two runs are compared with a one-sided Mann–Whitney U
test on those buckets (ties corrected, normal approximation), with the tolerance as the smallest
effect that counts: "after is slower" means after's durations are stochastically larger than
before's *multiplied by 1 + tolerance*, at the chosen confidence. Too few requests on either side
is a verdict of its own ("not judged"), never a regression. Everything here is deterministic.

>>> before = Histogram.of([10, 11, 12, 10, 11, 13, 12, 10, 11, 12, 10, 11])
>>> after = before.scaled(2.0)
>>> judge_latency(before, after, tolerance=0.1, confidence=0.99).status
'slower'
>>> judge_latency(before, before, tolerance=0.1, confidence=0.99).status
'same'
>>> judge_latency(before, Histogram.of([20, 21]), tolerance=0.1, confidence=0.99).status
'not_judged'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

# Below this many requests on either side a latency change is not judged: the normal
# approximation of U is poor, and a handful of requests says more about warm-up than about code.
MIN_SAMPLES = 10
DEFAULT_CONFIDENCE = 0.99
# Durations under 10 µs share the lowest bucket: nothing a request does is timed that finely.
_FLOOR_MS = 0.01
# Buckets per tenfold range: each 2 % wider than the one before (10^(1/115) = 1.0202), and
# every power of ten a bucket's centre.
_PER_DECADE = 115

VerdictStatus = Literal["slower", "faster", "same", "not_judged"]
# active: the server's time minus the time its thread waited for a CPU (audits on Linux);
# server: the middleware's wall time; client: Locust's response times.
LatencySource = Literal["active", "server", "client"]


def bucket(value_ms: float) -> float:
    """The centre of a duration's bucket (2 % wide), to three significant digits.

    >>> [bucket(v) for v in (0.0004, 1.234, 9.96, 10.0, 10.5, 11.0, 123.4, 1049.0)]
    [0.01, 1.25, 10.0, 10.0, 10.4, 11.1, 125.0, 1040.0]
    """
    if not math.isfinite(value_ms) or value_ms <= _FLOOR_MS:
        return _FLOOR_MS
    step = round(math.log10(value_ms) * _PER_DECADE)
    return max(_FLOOR_MS, float(f"{10 ** (step / _PER_DECADE):.3g}"))


@dataclass(frozen=True, slots=True)
class Histogram:
    """Request durations (ms) as `(bucket, count)` pairs, buckets ascending."""

    buckets: tuple[tuple[float, int], ...] = ()

    @classmethod
    def of(cls, values: Iterable[float]) -> Histogram:
        counts: dict[float, int] = {}
        for value in values:
            key = bucket(float(value))
            counts[key] = counts.get(key, 0) + 1
        return cls(tuple(sorted(counts.items())))

    @classmethod
    def from_counts(cls, counts: Mapping[int, int] | Mapping[float, int]) -> Histogram:
        """Already-bucketed counts (Locust's `response_times`), zero counts left out."""
        merged: dict[float, int] = {}
        for value, n in counts.items():
            if n > 0:
                key = bucket(float(value)) if value > 0 else _FLOOR_MS
                merged[key] = merged.get(key, 0) + int(n)
        return cls(tuple(sorted(merged.items())))

    @property
    def total(self) -> int:
        return sum(n for _, n in self.buckets)

    def __bool__(self) -> bool:
        return bool(self.buckets)

    def quantile(self, q: float) -> float | None:
        """Nearest-rank quantile, `q` in [0, 100] (as `core.stats.percentile`); None when empty.

        >>> Histogram.of([1, 10, 100, 1000]).quantile(50)
        10.0
        """
        total = self.total
        if not total:
            return None
        rank = min(total, max(1, math.ceil(q / 100 * total)))
        seen = 0
        for value, n in self.buckets:
            seen += n
            if seen >= rank:
                return value
        return self.buckets[-1][0]

    def merged(self, other: Histogram) -> Histogram:
        counts = dict(self.buckets)
        for value, n in other.buckets:
            counts[value] = counts.get(value, 0) + n
        return Histogram(tuple(sorted(counts.items())))

    def scaled(self, factor: float) -> Histogram:
        """Every duration multiplied by `factor` (kept exact, not re-bucketed)."""
        counts: dict[float, int] = {}
        for value, n in self.buckets:
            key = _exact(value * factor)
            counts[key] = counts.get(key, 0) + n
        return Histogram(tuple(sorted(counts.items())))

    def to_dict(self) -> dict[str, int]:
        """`{"1.2": 3, "15": 40}`: bucket (ms, as written by `%g`) → requests."""
        return {f"{value:g}": n for value, n in self.buckets}

    @classmethod
    def from_dict(cls, data: Any) -> Histogram:
        """Read `to_dict()`'s form; a ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"a histogram is an object of bucket → count, not {data!r}")
        counts: dict[float, int] = {}
        for key, n in data.items():
            try:
                value = float(key)
            except (TypeError, ValueError):
                raise ValueError(f"histogram bucket {key!r} is not a number") from None
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"histogram bucket {key!r} is not a finite duration ≥ 0")
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise ValueError(f"histogram bucket {key!r} has count {n!r}, not an integer ≥ 0")
            if n:
                counts[value] = counts.get(value, 0) + n
        return cls(tuple(sorted(counts.items())))


def _exact(value: float) -> float:
    # 10 × 1.1 is 11.000000000000002 in binary; durations that are equal should compare equal.
    return float(f"{value:.9g}")


@dataclass(frozen=True, slots=True)
class RankTest:
    """One-sided Mann–Whitney U: is `after` stochastically larger than `before`?"""

    u: float  # pairs (before, after) with after larger, ties counting one half
    z: float
    p_value: float  # one-sided


def mann_whitney_greater(before: Histogram, after: Histogram) -> RankTest:
    """The one-sided Mann–Whitney U test of "after tends to be larger than before" on binned
    samples: midranks for ties, the tie-corrected variance, a continuity correction and the
    normal approximation (`MIN_SAMPLES` a side keeps it sound).

    >>> t = mann_whitney_greater(Histogram.of([1, 2, 3]), Histogram.of([4, 5, 6]))
    >>> t.u, round(t.z, 3)
    (9.0, 1.746)
    """
    n_before, n_after = before.total, after.total
    if not n_before or not n_after:
        raise ValueError("both samples need at least one value")
    pooled: dict[float, list[int]] = {}
    for value, n in before.buckets:
        pooled.setdefault(value, [0, 0])[0] += n
    for value, n in after.buckets:
        pooled.setdefault(value, [0, 0])[1] += n
    rank_sum_after = 0.0
    ties = 0.0
    position = 0
    for value in sorted(pooled):
        in_before, in_after = pooled[value]
        size = in_before + in_after
        midrank = position + (size + 1) / 2
        rank_sum_after += in_after * midrank
        ties += size**3 - size
        position += size
    total = n_before + n_after
    u = rank_sum_after - n_after * (n_after + 1) / 2
    mean = n_before * n_after / 2
    variance = n_before * n_after / 12 * ((total + 1) - ties / (total * (total - 1)))
    if variance <= 0:  # every value the same: no evidence either way
        return RankTest(u=u, z=0.0, p_value=1.0)
    z = (u - mean - 0.5) / math.sqrt(variance)
    return RankTest(u=u, z=z, p_value=0.5 * math.erfc(z / math.sqrt(2)))


@dataclass(frozen=True, slots=True)
class LatencyVerdict:
    """How an endpoint's latency moved between two runs, as a test says it did.

    `slower` and `faster` are changes larger than the tolerance at the comparison's confidence;
    `same` means no such change was shown; `not_judged` means there was not enough to test
    (`reason` says what was missing).
    """

    status: VerdictStatus
    source: LatencySource | None = None  # which durations were compared (see LatencySource)
    requests_before: int = 0
    requests_after: int = 0
    median_before: float | None = None
    median_after: float | None = None
    p_value: float | None = None  # of the one-sided test in the direction the data lean
    reason: str = ""

    @property
    def judged(self) -> bool:
        return self.status != "not_judged"

    @property
    def median_ratio(self) -> float | None:
        if not self.median_before or self.median_after is None:
            return None
        return self.median_after / self.median_before

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "source": self.source,
            "requests": {"before": self.requests_before, "after": self.requests_after},
            "median_ms": {"before": self.median_before, "after": self.median_after},
            "p_value": self.p_value,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Any) -> LatencyVerdict:
        if not isinstance(data, dict):
            return NOT_RECORDED
        status = data.get("status")
        if status not in ("slower", "faster", "same", "not_judged"):
            raise ValueError(f"latency verdict status {status!r} is not known")
        source = data.get("source")
        requests = data.get("requests") or {}
        medians = data.get("median_ms") or {}
        p_value = data.get("p_value")
        return cls(
            status=status,
            source=source if source in ("active", "server", "client") else None,
            requests_before=int(requests.get("before", 0)),
            requests_after=int(requests.get("after", 0)),
            median_before=_optional_float(medians.get("before")),
            median_after=_optional_float(medians.get("after")),
            p_value=_optional_float(p_value),
            reason=str(data.get("reason", "")),
        )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


NOT_RECORDED = LatencyVerdict(
    status="not_judged",
    reason="no per-request durations in one of the reports (written before they were kept)",
)


@dataclass(frozen=True, slots=True)
class LatencySamples:
    """What a run measured of one endpoint's latency, for `judge_latency`."""

    active: Histogram = field(default_factory=Histogram)  # wall minus CPU wait, per request
    server: Histogram = field(default_factory=Histogram)  # the middleware's durations
    client: Histogram = field(default_factory=Histogram)  # Locust's response times


def pick_samples(
    before: LatencySamples, after: LatencySamples
) -> tuple[LatencySource, Histogram, Histogram] | None:
    """The first kind of durations both runs have: the time requests ran on a CPU or waited for
    I/O (what code changes and a busier machine does not), then the server's wall time (no
    network, no load generator), then what the clients saw; None when they share none."""
    for source in ("active", "server", "client"):
        old, new = getattr(before, source), getattr(after, source)
        if old and new:
            return source, old, new
    return None


@dataclass(frozen=True, slots=True)
class Drift:
    """How much the whole run moved: the median, over the endpoints both runs measured often
    enough, of their median latency ratio (after / before). A busier machine, or a change to
    every request, moves all endpoints alike; a regression moves some."""

    factor: float
    endpoints: int

    def to_dict(self) -> dict[str, Any]:
        return {"factor": float(f"{self.factor:.4g}"), "endpoints": self.endpoints}

    @classmethod
    def from_dict(cls, data: Any) -> Drift | None:
        if not isinstance(data, dict):
            return None
        factor = float(data["factor"])
        if not math.isfinite(factor) or factor <= 0:
            raise ValueError(f"latency drift factor {factor!r} is not a positive number")
        return cls(factor=factor, endpoints=int(data.get("endpoints", 0)))


# Fewer endpoints than this and a median says nothing about the run: no drift is assumed.
MIN_DRIFT_ENDPOINTS = 3


def run_drift(
    pairs: Iterable[tuple[Histogram, Histogram]], *, min_samples: int = MIN_SAMPLES
) -> Drift | None:
    """The run-wide factor of `pairs` (before, after) of each endpoint; None below
    `MIN_DRIFT_ENDPOINTS` endpoints with `min_samples` requests a side.

    >>> a, b = Histogram.of([10] * 12), Histogram.of([20] * 12)
    >>> run_drift([(a, b), (a, a), (a, a)])
    Drift(factor=1.0, endpoints=3)
    """
    logs = []
    for before, after in pairs:
        if min(before.total, after.total) < min_samples:
            continue
        old, new = before.quantile(50), after.quantile(50)
        if old and new:
            logs.append(math.log(new / old))
    if len(logs) < MIN_DRIFT_ENDPOINTS:
        return None
    logs.sort()
    middle = len(logs) // 2
    centre = logs[middle] if len(logs) % 2 else (logs[middle - 1] + logs[middle]) / 2
    return Drift(factor=float(f"{math.exp(centre):.4g}"), endpoints=len(logs))


def judge_latency(
    before: Histogram,
    after: Histogram,
    *,
    tolerance: float,
    confidence: float = DEFAULT_CONFIDENCE,
    source: LatencySource | None = None,
    drift: float = 1.0,
    min_samples: int = MIN_SAMPLES,
) -> LatencyVerdict:
    """Slower, faster, same or not judged: two one-sided rank tests at significance
    `1 - confidence`, each against the other side stretched by `1 + tolerance`.

    `drift` (the run-wide factor, see `run_drift`) widens the stretch in the direction the whole
    run moved: when every endpoint got 30 % slower, an endpoint is called slower only if it got
    slower than that by more than the tolerance. So an endpoint is slower when it is both slower
    than before and slower than the run around it — a busier machine alone never makes a
    regression, and a run that got faster overall never hides one.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be a non-negative fraction, not {tolerance!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    n_before, n_after = before.total, after.total
    base = LatencyVerdict(
        status="not_judged",
        source=source,
        requests_before=n_before,
        requests_after=n_after,
        median_before=before.quantile(50),
        median_after=after.quantile(50),
    )
    if min(n_before, n_after) < min_samples:
        return replace(
            base,
            reason=f"{n_before} and {n_after} timed requests; at least {min_samples} a side "
            "are needed",
        )
    alpha = 1 - confidence
    slower = mann_whitney_greater(before.scaled((1 + tolerance) * max(1.0, drift)), after)
    if slower.p_value < alpha:
        return replace(base, status="slower", p_value=_rounded(slower.p_value))
    faster = mann_whitney_greater(after.scaled((1 + tolerance) * max(1.0, 1 / drift)), before)
    if faster.p_value < alpha:
        return replace(base, status="faster", p_value=_rounded(faster.p_value))
    return replace(base, status="same", p_value=_rounded(min(slower.p_value, faster.p_value)))


def _rounded(p_value: float) -> float:
    # Four significant digits say all a p-value can; the same in memory as in compare.json.
    return float(f"{p_value:.4g}")

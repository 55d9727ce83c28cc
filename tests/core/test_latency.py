from __future__ import annotations

import math

import pytest

from perftoolkit.core.latency import (
    NOT_RECORDED,
    Drift,
    Histogram,
    LatencySamples,
    LatencyVerdict,
    bucket,
    judge_latency,
    mann_whitney_greater,
    pick_samples,
    run_drift,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, 0.01),
        (-3.0, 0.01),
        (math.nan, 0.01),
        (0.0123, 0.0122),
        (1.25, 1.25),
        (9.96, 10.0),  # every power of ten is a bucket's centre
        (10.5, 10.4),  # 2 % apart: ..., 10.2, 10.4, 10.6, ...
        (99.5, 100.0),
        (123.4, 125.0),
        (61_234.0, 61_800.0),
    ],
)
def test_bucket_is_two_percent_wide(value: float, expected: float) -> None:
    assert bucket(value) == expected


def test_histogram_stays_small_for_many_requests() -> None:
    durations = [0.5 + n * 0.37 for n in range(100_000)]  # 0.5 ms to 37 s

    histogram = Histogram.of(durations)

    assert histogram.total == 100_000
    assert len(histogram.buckets) < 500
    assert len(str(histogram.to_dict())) < 8_000


def test_histogram_quantiles_merge_scale_and_dict() -> None:
    histogram = Histogram.of([1, 2, 2, 3, 10])

    assert [histogram.quantile(q) for q in (0, 50, 80, 100)] == [1.0, 2.02, 3.01, 10.0]
    assert Histogram().quantile(50) is None
    assert histogram.merged(Histogram.of([2])).to_dict() == {"1": 1, "2.02": 3, "3.01": 1, "10": 1}
    assert Histogram.of([10, 100]).scaled(1.1).buckets == ((11.0, 1), (110.0, 1))
    assert Histogram.from_dict(histogram.to_dict()) == histogram
    assert Histogram.from_counts({12: 3, 0: 2, 7: 0}).buckets == ((0.01, 2), (12.0, 3))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "a histogram is an object"),
        ({"x": 1}, "bucket 'x' is not a number"),
        ({"-1": 1}, "not a finite duration"),
        ({"inf": 1}, "not a finite duration"),
        ({"1": -2}, "count -2, not an integer"),
        ({"1": 1.5}, "count 1.5, not an integer"),
        ({"1": True}, "count True, not an integer"),
    ],
)
def test_histogram_from_dict_names_what_is_wrong(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Histogram.from_dict(data)


@pytest.mark.parametrize(
    ("before", "after", "u", "p_value"),
    [
        # By hand, and the same as scipy.stats.mannwhitneyu(after, before, "greater",
        # method="asymptotic", use_continuity=True).
        ([1, 2, 3], [4, 5, 6], 9.0, 0.04042779918502612),
        # Ties: midranks 3 and 6, variance 16/12 × (9 − 48/56).
        ([1, 2, 2, 3], [2, 3, 3, 4], 13.0, 0.08601685446091145),
    ],
)
def test_mann_whitney_matches_hand_computed_values(
    before: list[float], after: list[float], u: float, p_value: float
) -> None:
    test = mann_whitney_greater(Histogram.of(before), Histogram.of(after))

    assert test.u == u
    assert test.p_value == pytest.approx(p_value, abs=1e-12)


def test_mann_whitney_all_equal_is_no_evidence() -> None:
    test = mann_whitney_greater(Histogram.of([5] * 10), Histogram.of([5] * 10))

    assert (test.z, test.p_value) == (0.0, 1.0)


def test_mann_whitney_needs_values() -> None:
    with pytest.raises(ValueError, match="both samples need at least one value"):
        mann_whitney_greater(Histogram(), Histogram.of([1]))


TEN = [10.0, 11.0, 9.0, 10.0, 12.0, 10.0, 9.0, 11.0, 10.0, 10.0]


@pytest.mark.parametrize(
    ("factor", "tolerance", "status"),
    [
        (2.0, 0.1, "slower"),
        (1.05, 0.1, "same"),  # within the tolerance: the smallest change that counts
        (1.5, 0.25, "slower"),
        (1.5, 0.5, "same"),
        (0.5, 0.1, "faster"),
        (1.0, 0.0, "same"),
    ],
)
def test_judge_latency(factor: float, tolerance: float, status: str) -> None:
    before = Histogram.of(TEN)
    after = Histogram.of([factor * d for d in TEN])

    verdict = judge_latency(before, after, tolerance=tolerance, source="server")

    assert (verdict.status, verdict.source, verdict.requests_before) == (status, "server", 10)


def test_judge_latency_below_ten_requests_is_not_judged() -> None:
    verdict = judge_latency(Histogram.of(TEN[:9]), Histogram.of([100.0] * 50), tolerance=0.1)

    assert verdict.status == "not_judged"
    assert verdict.judged is False
    assert verdict.reason == "9 and 50 timed requests; at least 10 a side are needed"


def test_judge_latency_allows_for_the_runs_drift() -> None:
    before = Histogram.of(TEN)
    after = Histogram.of([1.5 * d for d in TEN])

    assert judge_latency(before, after, tolerance=0.1, drift=1.5).status == "same"
    assert judge_latency(before, after, tolerance=0.1, drift=1.0).status == "slower"
    # A run that got faster overall hides no regression: the stretch never goes below 1 + tol.
    assert judge_latency(before, after, tolerance=0.1, drift=0.5).status == "slower"


@pytest.mark.parametrize(("tolerance", "confidence"), [(-0.1, 0.99), (0.1, 0.0), (0.1, 1.0)])
def test_judge_latency_refuses_bad_settings(tolerance: float, confidence: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        judge_latency(
            Histogram.of(TEN), Histogram.of(TEN), tolerance=tolerance, confidence=confidence
        )


def test_run_drift_is_the_median_ratio_of_enough_endpoints() -> None:
    base = Histogram.of([10.0] * 12)
    pairs = [(base, Histogram.of([f * 10.0] * 12)) for f in (1.2, 1.3, 1.4, 3.0)]

    # The middle two of 12, 13, 14 (bucketed 14.1) and 30 ms: √(1.3 × 1.41), logs averaged.
    assert run_drift(pairs) == Drift(factor=1.354, endpoints=4)
    assert run_drift(pairs[:2]) is None  # fewer than three endpoints say nothing of the run
    assert run_drift([*pairs[:2], (base, Histogram.of([20.0] * 3))]) is None  # too few requests


def test_pick_samples_prefers_the_server_side() -> None:
    server, client = Histogram.of([1.0]), Histogram.of([2.0])
    both = LatencySamples(server=server, client=client)

    assert pick_samples(both, both) == ("server", server, server)
    assert pick_samples(both, LatencySamples(client=client)) == ("client", client, client)
    assert pick_samples(LatencySamples(server=server), LatencySamples(client=client)) is None


def test_verdict_round_trip_and_old_comparisons() -> None:
    verdict = judge_latency(Histogram.of(TEN), Histogram.of([2 * d for d in TEN]), tolerance=0.1)

    assert LatencyVerdict.from_dict(verdict.to_dict()) == verdict
    assert LatencyVerdict.from_dict(None) == NOT_RECORDED
    with pytest.raises(ValueError, match="status 'worse' is not known"):
        LatencyVerdict.from_dict({"status": "worse"})


def test_pick_samples_prefers_active_time_when_both_runs_have_it() -> None:
    active, server = Histogram.of([1.0]), Histogram.of([2.0])
    full = LatencySamples(active=active, server=server)

    assert pick_samples(full, full) == ("active", active, active)
    assert pick_samples(full, LatencySamples(server=server)) == ("server", server, server)

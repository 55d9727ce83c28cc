"""perftoolkit's Mann–Whitney U test against scipy's, on random binned samples.

    /path/to/python-with-scipy benchmarks/rank_test_reference.py

scipy is not a dependency of perftoolkit (the test is forty lines over histograms, and `core/`
stays free of compiled libraries), so this check runs with any Python that has scipy installed;
it imports `perftoolkit/core/latency.py` by path. Each trial draws two log-normal samples of 10 to
300 durations (one of them stretched by 1, 1.05, 1.2 or 2), buckets them as report.json keeps them,
and compares U and the one-sided p-value with `scipy.stats.mannwhitneyu(after, before,
alternative="greater", method="asymptotic", use_continuity=True)`, which uses the same normal
approximation with tie correction. Measured: equal U, p-values within 1.1e-16 over 2,000 trials.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

from scipy.stats import mannwhitneyu

LATENCY = Path(__file__).resolve().parent.parent / "perftoolkit" / "core" / "latency.py"


def main() -> int:
    spec = importlib.util.spec_from_file_location("latency", LATENCY)
    assert spec is not None
    assert spec.loader is not None
    latency = importlib.util.module_from_spec(spec)
    sys.modules["latency"] = latency
    spec.loader.exec_module(latency)
    rng = random.Random(7)
    worst = 0.0
    trials = 2000
    for _ in range(trials):
        n_before, n_after = rng.randint(10, 300), rng.randint(10, 300)
        stretch = rng.choice([1.0, 1.05, 1.2, 2.0])
        before = [latency.bucket(rng.lognormvariate(3, 0.5)) for _ in range(n_before)]
        after = [latency.bucket(rng.lognormvariate(3, 0.5) * stretch) for _ in range(n_after)]
        ours = latency.mann_whitney_greater(
            latency.Histogram.of(before), latency.Histogram.of(after)
        )
        theirs = mannwhitneyu(
            after, before, alternative="greater", method="asymptotic", use_continuity=True
        )
        if abs(ours.u - float(theirs.statistic)) > 1e-9:
            sys.stdout.write(f"U differs: {ours.u} against {theirs.statistic}\n")
            return 1
        worst = max(worst, abs(ours.p_value - float(theirs.pvalue)))
    sys.stdout.write(f"{trials} trials: U equal, largest p-value difference {worst:.2g}\n")
    return 0 if worst < 1e-12 else 1


if __name__ == "__main__":
    sys.exit(main())

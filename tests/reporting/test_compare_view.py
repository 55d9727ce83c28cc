from __future__ import annotations

import pytest

from perftoolkit.core.runs.compare import compare
from perftoolkit.reporting.compare_view import compare_row
from perftoolkit.reporting.markdown import comparison_to_markdown
from tests.support.runs import Endpoint, make_run

STEADY = [9.0, 10.0, 11.0, 10.0, 12.0, 10.0, 9.0, 11.0, 10.0, 10.0, 11.0, 9.0]


@pytest.mark.parametrize(
    ("requests", "slowdown", "tone", "verdict", "mark"),
    [
        (12, 2.0, "bad", "▲ slower ×2.02", "🔴 ▲ +26.7%"),
        (12, 1.05, "same", "= no change shown (×1.04)", "▲ +26.7%"),  # within the tolerance
        (9, 2.0, "unjudged", "not judged (9 / 9 requests)", "▲ +26.7% (not judged)"),
    ],
)
def test_latency_cells_take_the_endpoints_verdict(
    requests: int, slowdown: float, tone: str, verdict: str, mark: str
) -> None:
    """The p95 moved the same in every case; its colour is the rank test's verdict on all of the
    endpoint's requests, and "not judged" is said, not shown as grey."""
    comparison = compare(
        make_run(
            "b", [Endpoint("GET", "api/t/", [4], requests, (60.0, 150.0, 210.0), durations=STEADY)]
        ),
        make_run(
            "a",
            [
                Endpoint(
                    "GET",
                    "api/t/",
                    [4],
                    requests,
                    (60.0, 190.0, 210.0),
                    durations=[slowdown * d for d in STEADY],
                )
            ],
        ),
    )
    (endpoint,) = comparison.endpoints

    row = compare_row(endpoint, comparison)
    p95 = row.cells[4]

    assert (p95.text, p95.tone) == ("▲ +26.7%", tone)
    assert (row.latency, row.latency_tone) == (verdict, tone)
    assert f"| 150 → 190 {mark} | {verdict} |" in comparison_to_markdown(comparison)

from __future__ import annotations

import pytest

from perftoolkit.core.runs.compare import compare
from perftoolkit.reporting.compare_view import compare_row
from perftoolkit.reporting.markdown import comparison_to_markdown
from tests.support.runs import Endpoint, make_run


@pytest.mark.parametrize(("requests", "tone", "mark"), [(19, "same", ""), (20, "bad", "🔴 ")])
def test_latency_cells_are_judged_only_with_enough_requests(
    requests: int, tone: str, mark: str
) -> None:
    comparison = compare(
        make_run("b", [Endpoint("GET", "api/t/", [4], requests, (60.0, 150.0, 210.0))]),
        make_run("a", [Endpoint("GET", "api/t/", [4], requests, (60.0, 190.0, 210.0))]),
    )
    (endpoint,) = comparison.endpoints

    p95 = compare_row(endpoint, comparison.tolerance).cells[4]

    assert (p95.text, p95.tone) == ("▲ +26.7%", tone)
    assert f"| 150 → 190 {mark}▲ +26.7% |" in comparison_to_markdown(comparison)

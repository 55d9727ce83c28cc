from __future__ import annotations

import pytest

from perftoolkit.reporting.charts import (
    LatencyRow,
    PairRow,
    QueriesRow,
    latency_chart,
    nice_max,
    pair_chart,
    queries_chart,
)


@pytest.mark.parametrize(
    ("value", "axis"),
    [(0, (1.0, 0.2)), (7, (8, 2)), (47, (50, 10)), (2205, (2500, 500)), (100, (100, 20))],
)
def test_nice_max(value: float, axis: tuple[float, float]) -> None:
    assert nice_max(value) == axis


def test_latency_chart_escapes_labels_and_orders_slowest_first() -> None:
    svg = latency_chart(
        [
            LatencyRow("GET api/<script>x</script>/", 10.0, 20.0, 30.0),
            LatencyRow("GET api/slow/", 100.0, 900.0, 1000.0),
        ],
        target_p95=500.0,
    )

    assert "<script>" not in svg
    assert "GET api/&lt;script&gt;x&lt;/script&gt;/" in svg
    assert svg.index("GET api/slow/") < svg.index("GET api/&lt;script")
    assert "P95 target 500 ms" in svg
    assert svg.startswith('<svg class="chart" id="latency" viewBox="0 0 1080 ')
    assert "http" not in svg


def test_chart_truncates_long_labels_keeping_the_full_text_as_title() -> None:
    label = "GET api/" + "x" * 60 + "/"
    svg = queries_chart([QueriesRow(label, 3.0, 4.0)], target=5.0)

    assert f"<title>{label}</title>" in svg
    assert "GET api/" + "x" * 31 + "…" in svg


def test_charts_empty_without_rows() -> None:
    assert latency_chart([], target_p95=500.0) == ""
    assert queries_chart([], target=5.0) == ""
    assert (
        pair_chart([PairRow("x", None, None)], title="t", before_label="a", after_label="b") == ""
    )


def test_pair_chart_shows_both_sides() -> None:
    svg = pair_chart(
        [PairRow("GET api/a/", 26.0, 4.0), PairRow("GET api/new/", None, 7.0)],
        title="queries",
        before_label="before",
        after_label="after",
    )

    assert svg.count('class="bar-before"') == 2  # one bar and the legend swatch
    assert svg.count('class="bar-after"') == 3
    assert "26 → 4" in svg
    assert "– → 7" in svg

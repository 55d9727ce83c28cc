"""Charts as inline SVG, drawn in Python: no script, no external file, readable in print.

Every piece of text goes through `_esc` (routes and labels come from the audited project);
colours come from CSS classes so the page's palette and print stylesheet apply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from perftoolkit.reporting.formatting import count, ms

WIDTH = 1080
LABEL_WIDTH = 300
VALUE_WIDTH = 130
ROW = 26
BAR = 15
TOP = 48
BOTTOM = 26
LABEL_CHARS = 40
MAX_ROWS = 20


@dataclass(frozen=True, slots=True)
class LatencyRow:
    label: str
    p50: float
    p95: float
    p99: float


@dataclass(frozen=True, slots=True)
class QueriesRow:
    label: str
    median: float
    max: float


@dataclass(frozen=True, slots=True)
class PairRow:
    label: str
    before: float | None
    after: float | None


def _esc(text: str) -> str:
    return escape(text, quote=True)


def _num(value: float) -> str:
    """Coordinates: short, deterministic."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def nice_max(value: float) -> tuple[float, float]:
    """An axis end at or above `value` and a tick step (1, 2 or 5 × 10^k, about 5 ticks)."""
    if value <= 0:
        return 1.0, 0.2
    raw = value / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return math.ceil(value / step - 1e-9) * step, step


class _Chart:
    """Horizontal bars, one band per row, labels on the left, an axis at the bottom."""

    def __init__(self, ident: str, title: str, rows: int, top: float, axis_max: float) -> None:
        self.ident = ident
        self.title = title
        self.height = TOP + rows * ROW + BOTTOM
        self.x0 = LABEL_WIDTH
        self.x1 = WIDTH - VALUE_WIDTH
        self.top = top
        self.axis_max, self.step = nice_max(axis_max)
        self.parts: list[str] = []

    def x(self, value: float) -> float:
        return self.x0 + (self.x1 - self.x0) * min(value, self.axis_max) / self.axis_max

    def y(self, index: int) -> float:
        return TOP + index * ROW

    def grid(self, unit: str) -> None:
        bottom = self.height - BOTTOM
        ticks = int(round(self.axis_max / self.step))
        for i in range(ticks + 1):
            value = i * self.step
            x = _num(self.x(value))
            self.parts.append(
                f'<line class="grid" x1="{x}" y1="{TOP - 4}" x2="{x}" y2="{bottom}"/>'
                f'<text class="tick" x="{x}" y="{bottom + 16}" text-anchor="middle">'
                f"{_esc(count(value))}{_esc(unit) if i == ticks else ''}</text>"
            )

    def label(self, index: int, text: str) -> None:
        y = _num(self.y(index) + ROW / 2 + 4)
        self.parts.append(
            f'<text class="label" x="{self.x0 - 10}" y="{y}" text-anchor="end">'
            f"<title>{_esc(text)}</title>{_esc(_short(text))}</text>"
        )

    def bar(
        self, index: int, value: float, css: str, *, offset: float = 0, thick: float = BAR
    ) -> None:
        y = self.y(index) + (ROW - thick) / 2 + offset
        width = max(self.x(value) - self.x0, 0.0 if value <= 0 else 1.5)
        self.parts.append(
            f'<rect class="{css}" x="{self.x0}" y="{_num(y)}" width="{_num(width)}" '
            f'height="{_num(thick)}" rx="2"/>'
        )

    def value(self, index: int, text: str, *, at: float | None = None) -> None:
        y = _num(self.y(index) + ROW / 2 + 4)
        x = _num((at if at is not None else self.x1) + 8)
        self.parts.append(f'<text class="value" x="{x}" y="{y}">{_esc(text)}</text>')

    def marker(self, value: float, text: str, css: str = "target") -> None:
        x = _num(self.x(value))
        bottom = self.height - BOTTOM
        self.parts.append(
            f'<line class="{css}" x1="{x}" y1="{TOP - 8}" x2="{x}" y2="{bottom}"/>'
            f'<text class="{css}-label" x="{x}" y="{TOP - 12}" text-anchor="start" dx="4">'
            f"{_esc(text)}</text>"
        )

    def legend(self, items: Sequence[tuple[str, str]]) -> None:
        x = float(self.x0)
        for css, text in items:
            self.parts.append(
                f'<rect class="{css}" x="{_num(x)}" y="4" width="12" height="12" rx="2"/>'
                f'<text class="legend" x="{_num(x + 17)}" y="14">{_esc(text)}</text>'
            )
            x += 36 + 6.5 * len(text)

    def svg(self, description: str) -> str:
        ident = _esc(self.ident)
        return (
            f'<svg class="chart" id="{ident}" viewBox="0 0 {WIDTH} {self.height}" '
            f'width="100%" role="img" aria-labelledby="{ident}-t {ident}-d" '
            f'preserveAspectRatio="xMinYMin meet">'
            f'<title id="{ident}-t">{_esc(self.title)}</title>'
            f'<desc id="{ident}-d">{_esc(description)}</desc>' + "".join(self.parts) + "</svg>"
        )


def latency_chart(rows: Sequence[LatencyRow], *, target_p95: float, ident: str = "latency") -> str:
    """p50, p95 and p99 of each endpoint as nested bars (slowest p95 first), with the P95 target."""
    if not rows:
        return ""
    shown = sorted(rows, key=lambda r: (-r.p95, r.label))[:MAX_ROWS]
    top = max(max(r.p99 for r in shown), target_p95)
    chart = _Chart(ident, "Latency percentiles per endpoint (ms)", len(shown), top, top * 1.05)
    chart.grid(" ms")
    chart.legend([("bar-p99", "p99"), ("bar-p95", "p95"), ("bar-p50", "p50")])
    for i, row in enumerate(shown):
        chart.label(i, row.label)
        chart.bar(i, row.p99, "bar-p99")
        chart.bar(i, row.p95, "bar-p95")
        chart.bar(i, row.p50, "bar-p50")
        chart.value(i, f"p95 {ms(row.p95)}")
    chart.marker(target_p95, f"P95 target {ms(target_p95)} ms")
    return chart.svg(
        "; ".join(
            f"{r.label}: p50 {ms(r.p50)} ms, p95 {ms(r.p95)} ms, p99 {ms(r.p99)} ms" for r in shown
        )
    )


def queries_chart(rows: Sequence[QueriesRow], *, target: float, ident: str = "queries") -> str:
    """Median queries per request of each endpoint (most first), its worst request as a tick."""
    if not rows:
        return ""
    shown = sorted(rows, key=lambda r: (-r.median, -r.max, r.label))[:MAX_ROWS]
    top = max(max(r.max for r in shown), target)
    chart = _Chart(ident, "Queries per request per endpoint", len(shown), top, top * 1.05)
    chart.grid("")
    chart.legend(
        [("bar-queries", "median"), ("bar-over", "median at or over target"), ("tick-max", "max")]
    )
    for i, row in enumerate(shown):
        chart.label(i, row.label)
        chart.bar(i, row.median, "bar-over" if row.median >= target else "bar-queries")
        x = _num(chart.x(row.max))
        y = chart.y(i)
        chart.parts.append(
            f'<line class="tick-max" x1="{x}" y1="{_num(y + 3)}" x2="{x}" y2="{_num(y + ROW - 3)}"/>'
        )
        chart.value(i, f"{count(row.median)} (max {count(row.max)})")
    chart.marker(target, f"target < {count(target)}")
    return chart.svg(
        "; ".join(f"{r.label}: median {count(r.median)}, max {count(r.max)}" for r in shown)
    )


def pair_chart(
    rows: Sequence[PairRow],
    *,
    title: str,
    before_label: str,
    after_label: str,
    ident: str = "pairs",
) -> str:
    """Before and after of one figure per endpoint as paired bars (largest before first)."""
    rows = [r for r in rows if r.before is not None or r.after is not None]
    if not rows:
        return ""
    shown = sorted(rows, key=lambda r: (-(r.before or 0), -(r.after or 0), r.label))[:MAX_ROWS]
    top = max(max(r.before or 0, r.after or 0) for r in shown)
    chart = _Chart(ident, title, len(shown), top, top * 1.05 or 1)
    chart.grid("")
    chart.legend([("bar-before", before_label), ("bar-after", after_label)])
    half = BAR / 2 + 1
    for i, row in enumerate(shown):
        chart.label(i, row.label)
        if row.before is not None:
            chart.bar(i, row.before, "bar-before", offset=-half / 2 - 1, thick=half)
        if row.after is not None:
            chart.bar(i, row.after, "bar-after", offset=half / 2 + 1, thick=half)
        chart.value(i, f"{count(row.before)} → {count(row.after)}")
    return chart.svg(
        "; ".join(f"{r.label}: {count(r.before)} before, {count(r.after)} after" for r in shown)
    )

from __future__ import annotations

import pytest

from perftoolkit.core.runs.compare import Delta
from perftoolkit.reporting.formatting import (
    Change,
    change,
    count,
    duration,
    elapsed,
    ms,
    percent,
    seconds,
    sort_key,
    timestamp,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "–"),
        (26, "26"),
        (26.0, "26"),
        (16.5, "16.5"),
        (4.74, "4.74"),
        (4.5, "4.5"),
        (1234, "1,234"),
    ],
)
def test_count(value: float | None, text: str) -> None:
    assert count(value) == text


@pytest.mark.parametrize(
    ("value", "cell", "unit"),
    [
        (None, "–", "–"),
        (3.44, "3.4", "3.4 ms"),
        (320.4, "320", "320 ms"),
        (1240.0, "1,240", "1.24 s"),
        (1000.0, "1,000", "1 s"),
        (2100.0, "2,100", "2.1 s"),
    ],
)
def test_ms_and_duration(value: float | None, cell: str, unit: str) -> None:
    assert (ms(value), duration(value)) == (cell, unit)


def test_percent() -> None:
    assert [percent(0.4865), percent(0.8, 0), percent(1.0), percent(None)] == [
        "48.6%",
        "80%",
        "100%",
        "–",
    ]


def test_times() -> None:
    assert timestamp("2026-11-18T11:06:40Z") == "2026-11-18 11:06:40 UTC"
    assert timestamp("yesterday") == "yesterday"
    assert elapsed("2026-11-18T11:06:40Z", "2026-11-18T11:07:45Z") == "1 min 5 s"
    assert [seconds(0), seconds(60), seconds(3605)] == ["0 s", "1 min", "1 h 5 s"]


def test_sort_key() -> None:
    assert [sort_key(None), sort_key(3), sort_key(0.25), sort_key(float("nan"))] == [
        "",
        "3",
        "0.25",
        "",
    ]


def test_change_counts_fall_is_good() -> None:
    assert change(Delta(26, 4)) == Change("26", "4", "▼ −22", "good", "-22", "down 22")


def test_change_counts_rise_is_bad() -> None:
    assert change(Delta(4, 5)) == Change("4", "5", "▲ +1", "bad", "1", "up 1")


def test_change_unchanged_and_missing() -> None:
    assert change(Delta(3, 3)) == Change("3", "3", "=", "same", "0", "no change")
    assert change(Delta(None, 3)) == Change("–", "3", "", "none", "", "not comparable")


def test_change_latency_by_percentage_with_tolerance() -> None:
    assert change(Delta(150.0, 190.0), unit="ms", tolerance=0.1).text == "▲ +26.7%"
    assert change(Delta(150.0, 190.0), unit="ms", tolerance=0.1).tone == "bad"
    assert change(Delta(100.0, 105.0), unit="ms", tolerance=0.1).tone == "same"
    assert change(Delta(0.0, 5.0), unit="ms").text == "▲ +5.0"


def test_change_ratio_higher_is_better() -> None:
    assert change(Delta(0.4865, 0.8378), unit="ratio", higher_is_better=True) == Change(
        "48.6%", "83.8%", "▲ +35.1 pts", "good", "0.3513", "up 35.1 pts"
    )

"""Guards against gross regressions of `report build` at scale, with wide margins and no clock:
memory must not grow with the number of requests, and a shape must be analysed once, not once
per request. The figures themselves are measured by benchmarks/report_build.py."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.core.diagnosis import load_detectors
from perftoolkit.core.findings import DetectionOptions
from perftoolkit.middleware.recording import RecordReader
from tests.support.recordings import record_corpus, write_recordings

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture(scope="module")
def lines(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> list[str]:
    with django_db_blocker.unblock():
        return record_corpus(tmp_path_factory.mktemp("scale"))


def build(directory: Path) -> tuple[int, RecordReader]:
    """The build's peak of traced memory (bytes), and the reader it used."""
    tracemalloc.start()
    try:
        reader = RecordReader([directory], detectors=load_detectors(), options=DetectionOptions())
        reader.read()
        reader.finish()
        return tracemalloc.get_traced_memory()[1], reader
    finally:
        tracemalloc.stop()


def test_memory_and_analysis_do_not_grow_with_requests(lines: list[str], tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    write_recordings(lines, [small], requests=2_000, files=4, seed_value=1)
    write_recordings(lines, [large], requests=40_000, files=4, seed_value=1)
    small_peak, small_reader = build(small)
    large_peak, large_reader = build(large)
    assert large_reader.lines == 40_000
    # Twenty times the requests: the exact percentiles' 16 bytes a request, and nothing like
    # twenty times the memory (holding the requests would take hundreds of megabytes).
    assert large_peak < 2 * small_peak + 16 * 40_000 + (4 << 20), (small_peak, large_peak)
    # 43 views, each recorded whole or cut short by up to three rows: a few hundred shapes at
    # most, however many requests.
    assert large_reader.analysed < 600
    assert large_reader.analysed < 1.5 * small_reader.analysed

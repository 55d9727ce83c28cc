"""A guard against gross regressions of the middleware's cost, with wide margins.

The figures themselves live in benchmarks/ (`make bench`); this runs the same benchmark briefly,
perftoolkit beside no instrumentation in interleaved worker processes, and fails only when
recording costs several times what the request does alone: a per-request cost that grew by an
order of magnitude (a frame walk per statement lost its cache, an encoder fell back to something
slow), not a few percent a busy machine can cause.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # worker processes, a few seconds of measured requests

ROOT = Path(__file__).resolve().parent.parent


def _benchmark(out: Path, *arguments: str) -> dict[str, Any]:
    """Run the overhead benchmark briefly (3 rounds of 0.05 s) and read its JSON."""
    command = [sys.executable, str(ROOT / "benchmarks" / "overhead.py"), *arguments]
    command += ["--rounds", "3", "--target", "0.05", "--json", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def test_recording_costs_less_than_three_times_no_instrumentation(tmp_path: Path) -> None:
    data = _benchmark(
        tmp_path / "overhead.json",
        "--only",
        "perftoolkit record",
        "--views",
        "/empty/",
        "/nplusone/",
    )
    views = data["views"]
    # One worker process per configuration, started afresh every round (a process's luck is not
    # carried into every round's ratio).
    assert data["paired"] is False
    assert data["fresh_workers_every_round"] is True
    for view in views.values():
        for config in ("none", "perftoolkit record"):
            measured = view["configurations"][config]
            assert len(measured["rounds_us"]) == 3
            assert len(set(measured["worker_pids"])) == 3
            totals = sum(measured["rounds_us"]) / sum(view["configurations"]["none"]["rounds_us"])
            assert measured["ratio_of_totals"] == pytest.approx(totals, abs=0.001)
    empty = views["/empty/"]["configurations"]["perftoolkit record"]["ratio"]
    nplusone = views["/nplusone/"]["configurations"]["perftoolkit record"]["ratio"]
    assert empty < 3.0, f"recording a request without queries costs {empty:.2f}× none"
    assert nplusone < 2.0, f"recording the N+1 of 20 costs {nplusone:.2f}× none"


def test_paired_run_measures_every_perftoolkit_configuration_in_one_process(
    tmp_path: Path,
) -> None:
    """`--paired`: one worker switched between perftoolkit's configurations; recording (buffered
    by default) builds its held lines within each batch, so nothing it owes is left out of the
    figures."""
    data = _benchmark(tmp_path / "paired.json", "--paired", "--views", "/empty/", "--no-write")
    configurations = data["views"]["/empty/"]["configurations"]
    assert data["paired"] is True
    assert list(configurations) == [
        "none",
        "perftoolkit record",
        "perftoolkit record, unbuffered",
        "perftoolkit log",
        "perftoolkit record at 1%",
    ]
    assert configurations["none"]["ratio"] == 1.0
    assert all(len(c["rounds_us"]) == 3 for c in configurations.values())
    recording = configurations["perftoolkit record"]["ratio"]
    assert recording < 3.0, f"recording costs {recording:.2f}× none"
    unbuffered = configurations["perftoolkit record, unbuffered"]["ratio"]
    assert unbuffered < 3.0, f"recording line by line costs {unbuffered:.2f}× none"

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

import pytest

pytestmark = pytest.mark.slow  # worker processes, a few seconds of measured requests

ROOT = Path(__file__).resolve().parent.parent


def test_recording_costs_less_than_three_times_no_instrumentation(tmp_path: Path) -> None:
    out = tmp_path / "overhead.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "overhead.py"),
            "--only",
            "perftoolkit record",
            "--views",
            "/empty/",
            "/nplusone/",
            "--rounds",
            "3",
            "--target",
            "0.05",
            "--json",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    views = json.loads(out.read_text())["views"]
    empty = views["/empty/"]["configurations"]["perftoolkit record"]["ratio"]
    nplusone = views["/nplusone/"]["configurations"]["perftoolkit record"]["ratio"]
    assert empty < 3.0, f"recording a request without queries costs {empty:.2f}× none"
    assert nplusone < 2.0, f"recording the N+1 of 20 costs {nplusone:.2f}× none"

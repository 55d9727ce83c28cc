"""perf_fix replays every request at one instant: a page that renders the time ("5 minutes
ago") answers the same before and after an edit, however long the replays take."""

from __future__ import annotations

import json
from pathlib import Path

from perftoolkit.fix.runner import ReplayRequest, replay

ROOT = Path(__file__).resolve().parents[2]
CLOCK = ReplayRequest(("GET", "mw/clock/"), "GET", "/mw/clock/")
INSTANT = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def _page(bodies: Path, clock: float | None) -> dict[str, object]:
    [result] = replay(
        [CLOCK], {}, project_dir=ROOT, settings_module="tests.settings", bodies=bodies, clock=clock
    )
    assert (result.error, result.key is not None) == ("", True)
    assert result.key is not None
    return json.loads((bodies / result.key.digest).read_bytes())  # type: ignore[no-any-return]


def test_the_replayed_project_reads_the_clock_perf_fix_set(tmp_path: Path) -> None:
    page = _page(tmp_path, INSTANT)
    assert page == {"time": 1_800_000_000, "day": "15 January 2027"}


def test_without_a_clock_the_project_reads_the_time_now(tmp_path: Path) -> None:
    page = _page(tmp_path, None)
    assert page["time"] != 1_800_000_000
    assert isinstance(page["time"], int)
    assert page["time"] > 1_700_000_000


def test_every_replay_lists_a_set_in_the_same_order(tmp_path: Path) -> None:
    """Each replay is a process of its own: with one hash seed for all of them, a page that
    lists a set answers the same in each (six strings: 720 orders a random seed could pick)."""
    page = ReplayRequest(("GET", "mw/stylesheets/"), "GET", "/mw/stylesheets/")
    keys = set()
    for _ in range(3):
        [result] = replay([page], {}, project_dir=ROOT, settings_module="tests.settings")
        assert (result.error, result.key is not None) == ("", True)
        assert result.key is not None
        assert result.key.status == 200
        keys.add(result.key)
    assert len(keys) == 1

"""SAMPLE_RATE and SLOW_REQUEST_MS: which requests are recorded, and what the reports say."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client, override_settings

from perftoolkit.conf import get_settings, reset_settings, settings_problems
from perftoolkit.core.runs.targets import Targets
from perftoolkit.middleware import query_budget
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.console import make_console, render_run
from perftoolkit.reporting.markdown import run_to_markdown
from perftoolkit.reporting.run_view import run_context
from perftoolkit.reporting.schema import run_to_dict
from tests.corpus.data import seed
from tests.support.recordings import written_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    seed()
    path = tmp_path / "rec"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(path))
    reset_settings()
    yield path
    reset_settings()


def draws(monkeypatch: pytest.MonkeyPatch, values: list[float]) -> None:
    """The random draws the middleware makes, one per request (the system's randomness)."""
    sequence = iter(values)
    monkeypatch.setattr(query_budget, "random", lambda: next(sequence))


def lines(directory: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in written_lines(directory) if line]


def test_sample_rate_records_the_requests_drawn_below_it(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws(monkeypatch, [0.1, 0.9, 0.3, 0.7, 0.5])
    with override_settings(PERFTOOLKIT={"SAMPLE_RATE": 0.5}):
        client = Client()
        for _ in range(5):
            assert client.get("/corpus/fk/").status_code == 200
        run = build_report(directory, label="sampled")
    assert len(lines(directory)) == 2
    data = run_to_dict(run)
    fk = next(e for e in data["endpoints"] if e["route"] == "corpus/fk/")
    assert (fk["requests"], fk["queries"]) == (2, {"min": 7, "median": 7, "max": 7})
    assert data["environment"]["sample_rate"] == "0.5"
    note = (
        "Requests were sampled at 50 %: request and query counts are of the recorded "
        "requests, not totals."
    )
    assert note in data["notes"]
    markdown = run_to_markdown(run)
    assert "1 endpoints, 2 requests recorded (sampled at 50 %), " in markdown
    assert note in markdown
    tiles = dict(run_context(run, Targets())["tiles"])
    assert tiles["Requests recorded, sampled at 50 %"] == "2"
    out = io.StringIO()
    render_run(run, make_console(out, width=200))
    assert "perftoolkit · sampled (sampled at 50 %)" in out.getvalue()


def test_sample_rate_zero_captures_nothing(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws(monkeypatch, [0.0, 0.0, 0.0])
    with override_settings(PERFTOOLKIT={"SAMPLE_RATE": 0}):
        client = Client()
        for _ in range(3):
            assert client.get("/corpus/fk/").status_code == 200
    assert lines(directory) == []


def test_a_slow_request_that_was_not_sampled_is_recorded_without_callsites(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws(monkeypatch, [0.9, 0.9])
    with override_settings(PERFTOOLKIT={"SAMPLE_RATE": 0.25, "SLOW_REQUEST_MS": 0}):
        client = Client()
        client.get("/corpus/fk/")
        client.get("/corpus/fk/")
        run = build_report(directory, label="slow")
    recorded = lines(directory)
    assert len(recorded) == 2
    assert [len(line["queries"]) for line in recorded] == [7, 7]  # type: ignore[arg-type]
    data = run_to_dict(run)
    assert data["environment"]["slow_request_ms"] == "0"
    assert (
        "Requests were sampled at 25 %, plus every request slower than 0 ms: request and query "
        "counts are of the recorded requests, not totals."
    ) in data["notes"]
    fk = next(e for e in data["endpoints"] if e["route"] == "corpus/fk/")
    assert fk["requests"] == 2


def test_a_fast_request_that_was_not_sampled_is_not_recorded(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws(monkeypatch, [0.9])
    with override_settings(PERFTOOLKIT={"SAMPLE_RATE": 0.25, "SLOW_REQUEST_MS": 60_000}):
        assert Client().get("/corpus/fk/").status_code == 200
    assert lines(directory) == []


def test_an_unsampled_recording_says_nothing_of_sampling(directory: Path) -> None:
    Client().get("/corpus/fk/")
    data = run_to_dict(build_report(directory, label="all"))
    assert "sample_rate" not in data["environment"]
    assert not any("sampled" in note for note in data["notes"])


def test_sampling_rules() -> None:
    with override_settings(PERFTOOLKIT={}):
        conf = get_settings()
        assert (conf.sample_rate, conf.slow_request_ms) == (1.0, None)
    with override_settings(PERFTOOLKIT={"SAMPLE_RATE": 2, "SLOW_REQUEST_MS": -1}):
        problems = settings_problems()
        assert [(p.key, p.id, p.message) for p in problems] == [
            (
                "SAMPLE_RATE",
                "perftoolkit.E017",
                "PERFTOOLKIT['SAMPLE_RATE'] must be a number from 0 to 1, not 2; its default is "
                "used instead.",
            ),
            (
                "SLOW_REQUEST_MS",
                "perftoolkit.E017",
                "PERFTOOLKIT['SLOW_REQUEST_MS'] must be a number from 0 to 86400000, not -1; its "
                "default is used instead.",
            ),
        ]
        assert get_settings().sample_rate == 1.0

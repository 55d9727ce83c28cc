"""The streaming report build gives the report the one-request-at-a-time build gave (the oracle in
tests/support/reference_build.py), whatever the order, files and servers the requests come in."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perftoolkit.core.diagnosis import load_detectors
from perftoolkit.core.events import RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding
from perftoolkit.core.runs import values as value_columns
from perftoolkit.core.runs.aggregate import RunAggregator
from perftoolkit.core.runs.values import ValuePool
from perftoolkit.core.stats import median, percentile
from perftoolkit.middleware.record_lines import ShapeCache
from perftoolkit.middleware.recording import RecordReader, build_report
from perftoolkit.reporting.schema import run_to_dict
from tests.support.recordings import record_corpus, write_recordings
from tests.support.reference_build import reference_report

# The module fixture needs the test database created; each test runs in its own transaction.
pytestmark = pytest.mark.django_db

_VARYING = ("label", "environment", "notes", "record_dir", "complete", "skipped_lines")


@pytest.fixture(scope="module")
def lines(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> list[str]:
    with django_db_blocker.unblock():
        return record_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture
def work(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("stream")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def comparable(run: Any) -> dict[str, Any]:
    data = run_to_dict(run)
    for key in _VARYING:
        data.pop(key, None)
    return data


def test_corpus_recording_has_every_kind_of_line(lines: list[str]) -> None:
    # The oracle comparisons below are only as strong as the lines they vary.
    text = "\n".join(lines)
    assert len(lines) == 2 * 61
    for field in (
        '"eager_loads"',
        '"accessed"',
        '"loaded"',
        '"relations"',
        '"lookups"',
        '"filtered":true',
    ):
        assert field in text


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed_value=st.integers(0, 2**32 - 1), files=st.integers(1, 4))
def test_streamed_report_equals_the_one_request_at_a_time_build(
    lines: list[str], work: Path, seed_value: int, files: int
) -> None:
    directory = work / f"rec-{seed_value}-{files}"
    write_recordings(lines, [directory], requests=300, files=files, seed_value=seed_value)
    expected = reference_report([directory], label="x")
    assert comparable(build_report(directory)) == comparable(expected)


def test_times_that_are_not_whole_thousandths_are_summed_exactly(
    lines: list[str], work: Path
) -> None:
    # The recorder writes thousandths, summed as the decimals they were written as; other values
    # are summed exactly too (the one-at-a-time build's float sum could differ from this in the
    # last place of a half-way total, which thousandths never make).
    directory = work / "odd"
    write_recordings(lines, [directory], requests=300, files=3, seed_value=5, odd=True)
    exact: dict[str, Fraction] = {}
    for file in directory.glob("*.jsonl"):
        for line in file.read_text().splitlines():
            for row in json.loads(line)["queries"]:
                units = round(row[1] * 1000)
                value = Fraction(units, 1000) if units / 1000 == row[1] else Fraction(row[1])
                exact[row[0]] = exact.get(row[0], Fraction(0)) + value
    totals = {q.fingerprint: q.total_ms for q in build_report(directory).queries}
    assert totals == {fp: float(total) for fp, total in exact.items()}
    assert any(total.denominator > 1000 for total in exact.values())


def test_several_servers_merge_into_one_run(lines: list[str], work: Path) -> None:
    servers = [work / "web-1", work / "web-2", work / "web-3"]
    write_recordings(lines, servers, requests=600, files=2, seed_value=7)
    run = build_report(servers)
    assert comparable(run) == comparable(reference_report(servers, label="x"))
    assert sum(e.requests for e in run.endpoints) == 600
    assert run.label == "web-1+web-2+web-3"
    assert run.record_dir == str(servers[0].resolve())


def test_each_request_shape_is_analysed_once(lines: list[str], work: Path) -> None:
    one = work / "one"
    write_recordings(lines[:1], [one], requests=200, seed_value=3)
    reader = RecordReader([one], detectors=load_detectors(), options=DetectionOptions())
    reader.read()
    # 200 requests of one endpoint: the full page, and pages cut by 1, 2 or 3 rows; by many
    # users, with many query strings (no detector reads them).
    assert reader.lines == 200
    assert 1 <= reader.analysed <= 4
    assert reader.aggregator.requests == 200


def slow_queries(profile: RequestProfile, options: DetectionOptions) -> list[Finding]:
    """A project detector that reads what varies between requests: it runs on each."""
    return [
        Finding(
            kind="slow_query",
            method=profile.method,
            route=profile.route,
            message=f"{q.ms} ms",
            repeats=int(q.ms),
        )  # type: ignore[arg-type]
        for q in profile.queries
        if q.ms > 4.9
    ]


def test_a_project_detector_runs_on_every_request(lines: list[str], work: Path) -> None:
    directory = work / "custom"
    write_recordings(lines, [directory], requests=300, seed_value=11)
    detectors = (*load_detectors(), slow_queries)
    run = build_report(directory, detectors=detectors)
    expected = reference_report([directory], label="x", detectors=detectors)
    assert comparable(run) == comparable(expected)
    assert any(f.kind == "slow_query" for f in run.findings)


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_spilled_values_give_the_exact_percentiles(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(value_columns, "CHUNK", chunk)  # sorted a few at a time, or all at once
    rng = random.Random(5)
    pool = ValuePool(budget=64)
    columns = [pool.column() for _ in range(3)]
    values: list[list[float]] = [[], [], []]
    for _ in range(2000):
        i = rng.randrange(3)
        value = rng.choice([rng.randint(0, 10_000) / 1000, rng.random() * 1e6, 0.0])
        columns[i].append(value)
        values[i].append(value)
    assert all(c.runs for c in columns)  # every column was written out at least once
    for column, expected in zip(columns, values, strict=True):
        assert len(column) == len(expected)
        assert column.median() == median(expected)
        for q in (1, 50, 95, 99, 100):
            assert column.percentile(q) == percentile(expected, q)
    pool.close()


def test_a_small_memory_budget_gives_the_same_report(lines: list[str], work: Path) -> None:
    directory = work / "budget"
    write_recordings(lines, [directory], requests=400, seed_value=13)
    reader = RecordReader(
        [directory],
        detectors=load_detectors(),
        options=DetectionOptions(),
        aggregator=RunAggregator(ValuePool(budget=50)),
        shapes=ShapeCache(max_shapes=2),
    )
    reader.read()
    assert reader.shapes.count <= 2
    assert comparable(reader.finish()) == comparable(build_report(directory))


def test_queries_written_as_objects_read_like_rows(lines: list[str], work: Path) -> None:
    # An earlier form of the line wrote each query as an object, callsites and relations inline.
    rows, objects = work / "rows", work / "objects"
    rows.mkdir()
    objects.mkdir()
    (rows / "1.jsonl").write_text("\n".join(lines) + "\n")
    legacy = []
    for line in lines:
        data = json.loads(line)
        profile = RequestProfile.from_dict(data)
        data["queries"] = [q.to_dict() for q in profile.queries]
        for key in ("statements", "sites", "relations"):
            data.pop(key, None)
        legacy.append(json.dumps(data))
    (objects / "1.jsonl").write_text("\n".join(legacy) + "\n")
    run = build_report(objects)
    assert run.skipped_lines == 0
    assert comparable(run) == comparable(build_report(rows))


@pytest.mark.django_db
def test_an_eager_load_another_request_reads_through_is_not_unused(tmp_path: Path) -> None:
    """One request reads the authors its select_related loads, another does not: the path is
    used by the endpoint; a report of the second request alone says it is not."""
    record_corpus(
        tmp_path / "both",
        ["/corpus/eager_some_requests/", "/corpus/eager_some_requests/?authors=1"],
        times=1,
    )
    record_corpus(tmp_path / "one", ["/corpus/eager_some_requests/"], times=1)

    def unused(directory: Path) -> list[str | None]:
        run = build_report(directory)
        return [f.path for f in run.findings if f.kind == "unused_eager_load"]

    assert unused(tmp_path / "both") == []
    assert unused(tmp_path / "one") == ["author"]


@pytest.mark.django_db
def test_an_eager_load_of_a_line_another_endpoint_reads_through_is_not_unused(
    tmp_path: Path,
) -> None:
    """One line's queryset serves two endpoints (a middleware's, a shared helper's): one reads
    what it loads, the other does not. Removing it would cost the first: not reported for the
    second. When neither reads it, both are told."""
    record_corpus(
        tmp_path / "shared",
        ["/corpus/eager_some_requests/", "/corpus/eager_other_route/?authors=1"],
        times=1,
    )
    record_corpus(
        tmp_path / "neither",
        ["/corpus/eager_some_requests/", "/corpus/eager_other_route/"],
        times=1,
    )

    def unused(directory: Path) -> list[tuple[str, str | None]]:
        run = build_report(directory)
        return sorted((f.route, f.path) for f in run.findings if f.kind == "unused_eager_load")

    assert unused(tmp_path / "shared") == []
    assert unused(tmp_path / "neither") == [
        ("corpus/eager_other_route/", "author"),
        ("corpus/eager_some_requests/", "author"),
    ]

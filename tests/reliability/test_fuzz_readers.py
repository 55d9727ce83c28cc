"""Every reader, fuzzed: record lines, report.json, compare.json, budget files, Locust's outputs
and the paths given on the command line. The property is the same everywhere: a result or one
clear perftoolkit error, never another exception; and what a reader accepts, the rest of the
tool handles (a report build accepted is written and read back; a report read is rendered,
judged and compared).

Inputs are real files (a recording of the corpus, its report, a comparison, Locust's output)
mutated at a random place — a value replaced by any JSON value (NaN, 1e308, huge integers,
nested containers, lone surrogates), a key removed — plus arbitrary bytes. `slow` runs the same
properties on many more examples.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perftoolkit.audit.locust import RESULTS_PREFIX, LocustOptions, LocustRun
from perftoolkit.budgets.reader import parse_budgets
from perftoolkit.cli.main import main
from perftoolkit.core.budgets.rules import evaluate
from perftoolkit.core.runs.compare import compare
from perftoolkit.core.runs.run import build_run
from perftoolkit.exceptions import PerfToolkitError
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.html import render_compare_html, render_run_html
from perftoolkit.reporting.markdown import comparison_to_markdown, run_to_markdown
from perftoolkit.reporting.schema import (
    comparison_from_dict,
    read_run,
    run_from_dict,
    run_to_dict,
    write_run,
)
from tests.support.recordings import record_corpus

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "locust"
QUICK = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MANY = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, -1, 1e308, -0.0, 2**53, 10**400, "", "\ud800", "é" * 3, "x" * 300])
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_of(item, (*prefix, index))


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """`base` (deep-copied) with one to three places replaced by any JSON value or removed."""
    data = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths_of(data))))
        if not path:
            return draw(json_values)
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(json_values)
    return data


def dumps_any(value: Any) -> bytes:
    """JSON as Python writes it (NaN and Infinity included), lone surrogates kept as bytes."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def quietly(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


@pytest.fixture(scope="module")
def lines(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> list[str]:
    with django_db_blocker.unblock():
        return record_corpus(
            tmp_path_factory.mktemp("fuzz"),
            ["/corpus/fk/", "/corpus/chain2/", "/corpus/unused_select/", "/corpus/duplicate/"],
            times=1,
        )


@pytest.fixture(scope="module")
def report(lines: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("fuzz-report")
    (directory / "1.jsonl").write_text("\n".join(lines) + "\n")
    locust = json.loads((FIXTURES / "fixed.json").read_text())
    from perftoolkit.core.runs.loadstats import load_stats_from_locust, parse_locust_json

    load = load_stats_from_locust(
        parse_locust_json(locust),
        route_for=lambda n: n.strip("/"),
        users=1,
        spawn_rate=1,
        run_time_s=1,
    )
    return run_to_dict(build_report(directory, load=load))


@pytest.fixture
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("case")
    yield path
    shutil.rmtree(path, ignore_errors=True)


# -- record lines -------------------------------------------------------------------------------


def check_record_dir(directory: Path, scratch: Path) -> None:
    try:
        run = build_report(directory)
    except PerfToolkitError:
        return
    # What the build accepted is written, read back and rendered.
    path = write_run(run, scratch / "report.json")
    again = read_run(path)
    run_to_markdown(again)
    render_run_html(again, targets={})


def bad_lines(lines: list[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.sampled_from(lines).flatmap(lambda line: mutated(json.loads(line)).map(dumps_any)),
        json_values.map(dumps_any),
        st.binary(max_size=200),
        st.sampled_from(lines).flatmap(
            lambda line: st.integers(0, len(line)).map(lambda n: line[:n].encode())
        ),
    )


@QUICK
@given(data=st.data())
def test_record_lines(lines: list[str], scratch: Path, data: st.DataObject) -> None:
    run_record_case(lines, scratch, data)


@pytest.mark.slow
@MANY
@given(data=st.data())
def test_record_lines_many(lines: list[str], scratch: Path, data: st.DataObject) -> None:
    run_record_case(lines, scratch, data)


def run_record_case(lines: list[str], scratch: Path, data: st.DataObject) -> None:
    directory = scratch / "rec"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    bad = data.draw(st.lists(bad_lines(lines), min_size=1, max_size=3))
    good = data.draw(st.lists(st.sampled_from(lines), max_size=4))
    body = b"\n".join([*(g.encode() for g in good), *bad])
    (directory / "1.jsonl").write_bytes(body + data.draw(st.sampled_from([b"", b"\n"])))
    check_record_dir(directory, scratch)


# -- report.json and compare.json -------------------------------------------------------------


def check_report(data: Any, scratch: Path) -> None:
    try:
        run = run_from_dict(data, source="report.json")
    except PerfToolkitError:
        return
    run_to_markdown(run)
    render_run_html(run, targets={})
    from perftoolkit.budgets.reader import parse_budgets

    budgets = parse_budgets("[defaults]\nqueries = 5\nduplicates = 1\nlatency_ms_p95 = 100\n")
    evaluate(run, budgets)
    comparison = compare(run, run)
    comparison_to_markdown(comparison)
    render_compare_html(comparison, run, run, targets={})
    json.dumps(run_to_dict(run), allow_nan=False)


@QUICK
@given(data=st.data())
def test_reports(report: dict[str, Any], scratch: Path, data: st.DataObject) -> None:
    check_report(data.draw(mutated(report)), scratch)


@pytest.mark.slow
@MANY
@given(data=st.data())
def test_reports_many(report: dict[str, Any], scratch: Path, data: st.DataObject) -> None:
    check_report(data.draw(mutated(report)), scratch)


@QUICK
@given(data=st.data())
def test_comparisons(report: dict[str, Any], data: st.DataObject) -> None:
    run = run_from_dict(report)
    base = compare(run, run).to_dict()
    try:
        comparison = comparison_from_dict(data.draw(mutated(base)), source="compare.json")
    except PerfToolkitError:
        return
    comparison_to_markdown(comparison)
    render_compare_html(comparison, run, run, targets={})


@QUICK
@given(text=st.binary(max_size=300))
def test_report_files_of_any_bytes(scratch: Path, text: bytes) -> None:
    path = scratch / "report.json"
    path.write_bytes(text)
    assert quietly(["report", "show", str(path)]) == 1


# -- budget files -------------------------------------------------------------------------------

BUDGETS = """\
[defaults]
queries = 10
unlisted = "warn"

[endpoints."GET corpus/fk/"]
queries = 4
duplicates = 0
db_ms_p95 = 50
latency_ms_p95 = 200
"""


@QUICK
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.integers(0, len(BUDGETS)).flatmap(
            lambda n: st.text(max_size=30).map(lambda t: BUDGETS[:n] + t + BUDGETS[n:])
        ),
        st.sampled_from(["queries", "4", "50", '"warn"', "200", "0"]).flatmap(
            lambda old: json_values.map(lambda new: BUDGETS.replace(old, json.dumps(new), 1))
        ),
    )
)
def test_budget_files(report: dict[str, Any], text: str) -> None:
    try:
        budgets = parse_budgets(text, source="perf-budgets.toml")
    except PerfToolkitError:
        return
    evaluate(run_from_dict(report), budgets)


# -- Locust's outputs ---------------------------------------------------------------------------


def check_locust(workdir: Path, json_text: bytes | None, csv_text: str | None) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()
    if json_text is not None:
        (workdir / f"{RESULTS_PREFIX}.json").write_bytes(json_text)
    if csv_text is not None:
        (workdir / f"{RESULTS_PREFIX}_stats.csv").write_text(csv_text, errors="surrogateescape")
    options = LocustOptions(locustfiles=(Path("smoke.py"),), users=1, spawn_rate=1.0, run_time_s=1)
    try:
        load = LocustRun(options, "http://127.0.0.1:1", workdir).stats(lambda name: name)
    except PerfToolkitError:
        return
    if load is None:
        return
    # An audit writes these numbers into its report: the report must read back.
    run = build_run(
        [],
        label="x",
        started_at=0,
        finished_at=0,
        environment={},
        detectors=[],
        options=None,  # type: ignore[arg-type]
        load=load,
    )
    write_run(run, workdir / "report.json")
    read_run(workdir / "report.json")
    assert all(math.isfinite(e.p95) for e in load.entries)


@QUICK
@given(data=st.data())
def test_locust_json(scratch: Path, data: st.DataObject) -> None:
    base = json.loads((FIXTURES / "fixed.json").read_text())
    text = data.draw(
        st.one_of(mutated(base).map(dumps_any), st.binary(max_size=100), json_values.map(dumps_any))
    )
    check_locust(scratch / "locust", text, None)


@QUICK
@given(data=st.data())
def test_locust_csv(scratch: Path, data: st.DataObject) -> None:
    base = (FIXTURES / "fixed_stats.csv").read_text()
    cells = base.replace("\n", ",").split(",")
    old = data.draw(st.sampled_from([c for c in cells if c]))
    new = data.draw(
        st.sampled_from(["", "N/A", "-1", "nan", "inf", "1e308", "x", "99999999999999999999", '"'])
    )
    text = data.draw(st.sampled_from([base.replace(old, new), base[: len(base) // 2], ""]))
    check_locust(scratch / "locust", None, text)


# -- paths given on the command line ----------------------------------------------------------

odd_names = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            ".",
            "..",
            "/",
            "/proc/self/x",
            "/dev/null",
            "/dev/full",
            "a\x00b",
            "x" * 300,
            "~",
            "-o",
        ]
    ),
)


@QUICK
@given(record=odd_names, output=odd_names, report=odd_names)
def test_cli_paths(lines: list[str], scratch: Path, record: str, output: str, report: str) -> None:
    here = scratch / "cwd"
    shutil.rmtree(here, ignore_errors=True)
    here.mkdir()
    (here / "loop").symlink_to(here / "loop")
    (here / "dir.jsonl").mkdir()
    with contextlib.chdir(here):
        for argv in (
            ["report", "build", record, "-o", output],
            ["report", "show", report],
            ["report", "html", report, "-o", output],
            ["report", "compare", report, report, "-o", output],
            ["budget", "check", "--report", report, "--junit-xml", output],
        ):
            assert quietly(argv) in (1, 2), argv
    assert os.getcwd() != str(here)

"""Bad input, read as a new user's files would be: record directories with a bad line among good
ones, reports with a field of the wrong type or out of range. Never a traceback: a bad record
line is skipped and counted, a bad report is one clear error naming the file and the field."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.cli.main import main
from perftoolkit.middleware import recording
from perftoolkit.reporting.schema import run_to_dict, write_run
from tests.support.budget_runs import endpoint, nplusone, run_of
from tests.support.recordings import record_corpus

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def good(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> list[str]:
    with django_db_blocker.unblock():
        return record_corpus(
            tmp_path_factory.mktemp("good"), ["/corpus/fk/", "/corpus/count/"], times=2
        )


def _replace(line: str, old: str, new: str) -> str:
    assert old in line
    return line.replace(old, new, 1)


def _field(line: str, **changes: Any) -> str:
    data = json.loads(line)
    data.update(changes)
    return json.dumps(data)


def _row(line: str, **changes: Any) -> str:
    data = json.loads(line)
    row = data["queries"][0]
    for index, value in changes.items():
        position = int(index[1:])
        row.extend([None] * (position + 1 - len(row)))
        row[position] = value
    return json.dumps(data)


# name → (a bad line made from a good one, what the skip note says about it)
BAD_LINES: dict[str, tuple[Callable[[str], str], str]] = {
    "array": (lambda g: "[1, 2, 3]", "a JSON array, not an object"),
    "null": (lambda g: "null", "a JSON null, not an object"),
    "string": (lambda g: '"x"', "a JSON string, not an object"),
    "number": (lambda g: "42", "a JSON number, not an object"),
    "nan": (
        lambda g: _replace(g, '"duration_ms":', '"duration_ms": NaN, "x":'),
        "'duration_ms' is nan",
    ),
    "huge": (
        lambda g: _replace(g, '"duration_ms":', '"duration_ms": 1e308, "x":'),
        "'duration_ms' is 1e+308",
    ),
    "infinite": (
        lambda g: _replace(g, '"started_at":', '"started_at": 1e999, "x":'),
        "'started_at' is inf",
    ),
    "deep": (lambda g: "[" * 200_000 + "]" * 200_000, "nested too deeply"),
    "torn": (lambda g: g[: len(g) // 2], "not JSON"),
    "negative duration": (lambda g: _field(g, duration_ms=-5), "'duration_ms' is -5"),
    "string status": (lambda g: _field(g, status="200"), "'status' must be an HTTP status code"),
    "status out of range": (lambda g: _field(g, status=99999), "'status' must be an HTTP status"),
    "bool status": (lambda g: _field(g, status=True), "'status' must be an HTTP status code"),
    "method of the wrong type": (
        lambda g: _field(g, method=7),
        "'method' and 'route' must be strings",
    ),
    "route of the wrong type": (lambda g: _field(g, route=["x"]), "'method' and 'route' must be"),
    "view of the wrong type": (lambda g: _field(g, view={"a": 1}), "'view' must be a string"),
    "queries not a list": (lambda g: _field(g, queries={"a": 1}), "'queries' must be a list"),
    "negative query time": (lambda g: _row(g, i1=-1), "a query's 'ms' is -1"),
    "query time as text": (lambda g: _row(g, i1="1"), "a query's 'ms' is not a number"),
    "query time past any float": (
        lambda g: _row(g, i1=10**400),
        "a query's 'ms' is a JSON number, not a duration",
    ),
    "fingerprint of the wrong type": (lambda g: _row(g, i0=5), "fingerprint is not a string"),
    "params key of the wrong type": (lambda g: _row(g, i5=[1]), "'params_key' is not a string"),
    "callsite past its table": (lambda g: _row(g, i2=99), "points past its table"),
    "negative cache count": (
        lambda g: _field(g, cache={"gets": -1, "hits": 0}),
        "'cache' must hold counts",
    ),
    "more hits than gets": (lambda g: _field(g, cache={"gets": 1, "hits": 2}), "0 <= hits <= gets"),
    "statement text not a string": (
        lambda g: _field(g, statements=dict.fromkeys(json.loads(g)["statements"], 1)),
        "must be a string, not 1",
    ),
    "sites not a list": (lambda g: _field(g, sites="x"), "'sites' must be a list"),
    "lone surrogate": (lambda g: _field(g, route="api/\ud800/"), "'route' is not valid Unicode"),
    "not UTF-8": (lambda g: g.replace("GET", "G\udcffT", 1), "not JSON"),
}


def _directory(tmp_path: Path, good: list[str], bad: str) -> Path:
    directory = tmp_path / "rec"
    directory.mkdir()
    half = len(good) // 2
    text = "\n".join([*good[:half], bad, *good[half:]]) + "\n"
    (directory / "1.jsonl").write_bytes(text.encode("utf-8", "surrogateescape"))
    return directory


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_bad_record_line_is_skipped_and_counted(
    case: str, good: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, reason = BAD_LINES[case]
    directory = _directory(tmp_path, good, make(good[0]))
    out = tmp_path / "report.json"
    assert main(["report", "build", str(directory), "-o", str(out)]) == 0
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err
    assert printed.out.endswith(f"{len(good)} requests, 2 findings, 1 unreadable lines skipped\n")
    report = json.loads(out.read_text())
    assert report["skipped_lines"] == 1
    assert sum(e["requests"] for e in report["endpoints"]) == len(good)
    note = report["notes"][0]
    assert note.startswith(
        f"Skipped 1 unreadable line of the recording: 1.jsonl:{len(good) // 2 + 1} ("
    )
    assert reason in note


def test_the_skip_note_is_in_every_view(
    good: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = _directory(tmp_path, good, "null")
    out = tmp_path / "report.json"
    assert main(["report", "build", str(directory), "-o", str(out)]) == 0
    capsys.readouterr()
    expected = "Skipped 1 unreadable line of the recording"
    for argv in (["report", "show", str(out)], ["report", "show", str(out), "-f", "markdown"]):
        assert main(argv) == 0
        assert expected in " ".join(capsys.readouterr().out.split())
    assert main(["report", "html", str(out)]) == 0
    assert expected in (tmp_path / "index.html").read_text()


def test_a_torn_line_glued_to_the_next_request_keeps_that_request(
    good: list[str], tmp_path: Path
) -> None:
    # A process killed mid-write, its pid reused: the new process appends to the torn line.
    directory = tmp_path / "rec"
    directory.mkdir()
    glued = good[1][: len(good[1]) // 3] + good[2]
    (directory / "1.jsonl").write_text("\n".join([good[0], glued, *good[3:]]) + "\n")
    run = recording.build_report(directory)
    assert sum(e.requests for e in run.endpoints) == len(good) - 1
    assert run.skipped_lines == 1
    assert "1.jsonl:2 (a torn line the next request was appended to)" in run.notes[0]


def test_files_that_are_not_recordings_are_skipped(good: list[str], tmp_path: Path) -> None:
    directory = tmp_path / "rec"
    directory.mkdir()
    (directory / "1.jsonl").write_text("\n".join(good) + "\n")
    (directory / "x.jsonl").mkdir()
    (directory / "loop.jsonl").symlink_to(directory / "loop.jsonl")
    os.mkfifo(directory / "fifo.jsonl")  # opening it would block: it must not be opened
    (directory / "empty.jsonl").write_text("")
    run = recording.build_report(directory)
    assert sum(e.requests for e in run.endpoints) == len(good)
    assert run.skipped_lines == 0
    assert run.notes == (
        "Skipped files of the recording: fifo.jsonl (not a file), "
        "loop.jsonl (Too many levels of symbolic links), x.jsonl (a directory).",
    )


def test_an_overlong_line_is_skipped_without_being_held(
    good: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = max(len(g) for g in good) + 10
    monkeypatch.setattr(recording, "MAX_LINE_BYTES", limit)
    monkeypatch.setattr(recording, "_CHUNK", 256)  # the long line arrives in many pieces
    directory = _directory(tmp_path, good, "x" * (limit * 3))
    run = recording.build_report(directory)
    assert sum(e.requests for e in run.endpoints) == len(good)
    assert run.skipped_lines == 1
    assert f"(longer than {limit:,} bytes)" in run.notes[0]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1.jsonl": ""}, "its *.jsonl files are empty"),
        ({"1.jsonl": "", "2.jsonl": "\n\n"}, "its *.jsonl files are empty"),
        ({"1.jsonl": "null\n[1]\n"}, "can be read: 2 lines skipped (1.jsonl:1 (a JSON null"),
    ],
)
def test_nothing_readable_is_an_error(
    files: dict[str, str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "rec"
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
    assert main(["report", "build", str(directory), "-o", str(tmp_path / "r.json")]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "r.json").exists()


# -- report.json ------------------------------------------------------------------------------


def _report(**changes: Any) -> dict[str, Any]:
    data = run_to_dict(run_of(endpoint("corpus/fk/", 6), findings=(nplusone("corpus/fk/"),)))
    for path, value in changes.items():
        target: Any = data
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[keys[-1]] = value
    return data


BAD_REPORTS: dict[str, tuple[str, str]] = {
    # name → (report.json text, what the error says)
    "negative queries.max": (
        json.dumps(_report(endpoints__0__queries__max=-3)),
        "endpoints[0].queries.max is -3, not a count",
    ),
    "NaN latency": (
        json.dumps(_report(endpoints__0__latency_ms__p95=float("nan"))),
        "endpoints[0].latency_ms.p95 is nan, not a finite number",
    ),
    "1e308 total": (
        json.dumps(_report(queries=[{"fingerprint": "f", "sql": "s", "total_ms": 1e308}])),
        "queries[0].total_ms is 1e+308",
    ),
    "infinite p95": (
        json.dumps(_report(endpoints__0__db_ms__p95=1e999)),
        "endpoints[0].db_ms.p95 is inf",
    ),
    "requests as text": (
        json.dumps(_report(endpoints__0__requests="5")),
        "endpoints[0].requests is '5', not a count",
    ),
    "requests as bool": (
        json.dumps(_report(endpoints__0__requests=True)),
        "endpoints[0].requests is true, not a count",
    ),
    "route not a string": (
        json.dumps(_report(endpoints__0__route=5)),
        "endpoints[0].route is 5, not a string",
    ),
    "endpoints not a list": (
        json.dumps(_report(endpoints={"a": 1})),
        "endpoints is a JSON object, not a list",
    ),
    "endpoint not an object": (
        json.dumps(_report(endpoints=[1])),
        "endpoints[0] is 1, not an object",
    ),
    "finding repeats negative": (
        json.dumps(_report(findings__0__repeats=-1)),
        "findings[0].repeats is -1",
    ),
    "budget status unknown": (
        json.dumps(_report(endpoints__0__budget={"status": "fine"})),
        "endpoints[0].budget.status is 'fine', not one of ok, exceeded, none",
    ),
    "cache ratio above 1": (
        json.dumps(_report(cache={"gets": 1, "hits": 1, "ratio": 3})),
        "cache.ratio is 3",
    ),
    "skipped_lines negative": (json.dumps(_report(skipped_lines=-1)), "skipped_lines is -1"),
    "not an object": ("[1, 2]", "its top level is not a JSON object"),
    "deep": ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
    "not JSON": ("{", "is not valid JSON"),
    "empty": ("", "is not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(BAD_REPORTS))
@pytest.mark.parametrize(
    "command",
    [
        ["report", "show", "{report}"],
        ["report", "html", "{report}", "-o", "{tmp}/index.html"],
        ["report", "compare", "{report}", "{report}", "-o", "{tmp}/cmp"],
        ["budget", "check", "--report", "{report}", "--budgets", "{tmp}/b.toml"],
    ],
    ids=["show", "html", "compare", "budget"],
)
def test_a_bad_report_is_one_clear_error(
    case: str, command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, message = BAD_REPORTS[case]
    report = tmp_path / "report.json"
    report.write_text(text)
    (tmp_path / "b.toml").write_text('[endpoints."GET corpus/fk/"]\nqueries = 4\n')
    argv = [a.format(report=report, tmp=tmp_path) for a in command]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith(f"Error: {report}")
    assert message in err


def test_a_negative_queries_max_does_not_pass_the_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    write_run(run_of(endpoint("corpus/fk/", 3)), report)
    (tmp_path / "b.toml").write_text('[endpoints."GET corpus/fk/"]\nqueries = 4\n')
    argv = ["budget", "check", "--report", str(report), "--budgets", str(tmp_path / "b.toml")]
    assert main(argv) == 0
    data = json.loads(report.read_text())
    data["endpoints"][0]["queries"]["max"] = -3
    report.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(argv) == 1
    assert "queries.max is -3, not a count" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["directory", "symlink loop", "fifo"])
def test_a_report_path_that_is_not_a_file(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    if kind == "directory":
        report.mkdir()
    elif kind == "fifo":
        os.mkfifo(report)
    else:
        report.symlink_to(report)
    assert main(["report", "show", str(report)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith(f"Error: {report}")


def test_an_audit_with_an_unreadable_recording_keeps_locusts_numbers(tmp_path: Path) -> None:
    from perftoolkit.audit.files import build_audit_run
    from perftoolkit.core.runs.loadstats import load_stats_from_locust, parse_locust_json

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "locust" / "fixed.json"
    load = load_stats_from_locust(
        parse_locust_json(json.loads(fixture.read_text())),
        route_for=lambda name: name.strip("/"),
        users=1,
        spawn_rate=1,
        run_time_s=1,
    )
    record_dir = tmp_path / "recording"
    record_dir.mkdir()
    (record_dir / "1.jsonl").write_text("")  # the server opened its file and wrote nothing
    run = build_audit_run(
        label="x",
        record_dir=record_dir,
        load=load,
        started=1_800_000_000,
        finished=1_800_000_030,
        since=None,
        notes=[],
        complete=True,
        environment={},
    )
    assert run is not None
    assert [e.requests for e in run.endpoints] == [e.requests for e in load.entries]
    assert run.notes[-1].startswith(
        f"The recording could not be read: Nothing was recorded in {record_dir}"
    )

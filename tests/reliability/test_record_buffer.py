"""RECORD_BUFFER: record lines held in memory and written together, whole, when the buffer fills,
when the oldest is a second old (with the next line, or by a background thread when none comes),
before a report is built in the process, before a fork and at exit (by default, 64 KiB of lines);
without it (0) each line is written as its request ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpRequest
from django.test import AsyncClient, Client, override_settings

from perftoolkit.conf import DEFAULT_RECORD_BUFFER, get_settings, reset_settings
from perftoolkit.middleware import query_budget
from perftoolkit.middleware import recorder as recorder_module
from perftoolkit.middleware.recorder import Recorder, encode_line, flush_recorders
from perftoolkit.middleware.recording import build_report

PATH = "/mw/three/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_recorders(monkeypatch: pytest.MonkeyPatch) -> Any:
    recorder_module._recorders.clear()
    # What a test holds stays held until it writes it, however slow the machine: the background
    # thread writes only lines a minute old (the tests of that thread set the second again).
    monkeypatch.setattr(recorder_module, "_HOLD_SECONDS", 60.0)
    recorder_module._wake.set()  # a thread waiting out an earlier test's hold scans again
    yield
    recorder_module._recorders.clear()
    recorder_module._wake.set()


def _line(n: int) -> dict[str, Any]:
    return {"method": "GET", "route": f"r{n}/", "status": 200, "queries": []}


def _routes(directory: Path) -> list[str]:
    return [
        json.loads(t)["route"]
        for f in sorted(directory.glob("*.jsonl"))
        for t in f.read_text().splitlines()
    ]


def test_wsgi_requests_are_held_by_default_and_asgi_ones_written_at_once(
    tmp_path: Path, db: None
) -> None:
    """Not set, RECORD_BUFFER holds 64 KiB of lines of WSGI requests; an ASGI request's line is
    written as it ends, since uvicorn ends its process by the signal that stopped it, where no
    exit handler writes held lines."""
    assert DEFAULT_RECORD_BUFFER == 65536
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(tmp_path)}):
        assert get_settings().record_buffer is None
        assert Client().get(PATH).status_code == 200
        assert _routes(tmp_path) == []
        response = async_to_sync(AsyncClient().get)(PATH)
        assert response.status_code == 200
        assert _routes(tmp_path) == ["mw/three/"]
        flush_recorders()
        assert _routes(tmp_path) == ["mw/three/", "mw/three/"]
        held = recorder_module._recorders[str(tmp_path)]
        assert held.held_since() is None


def test_without_a_buffer_each_line_is_written_at_once(tmp_path: Path) -> None:
    with override_settings(PERFTOOLKIT={"RECORD_BUFFER": 0}):
        assert get_settings().record_buffer == 0
        Recorder(str(tmp_path)).record(_line(1), [])
        assert _routes(tmp_path) == ["r1/"]


def test_lines_are_held_until_the_buffer_fills(tmp_path: Path) -> None:
    size = len(encode_line(_line(1)))
    with override_settings(PERFTOOLKIT={"RECORD_BUFFER": 3 * size - 1}):
        rec = Recorder(str(tmp_path))
        rec.record(_line(1), [])
        rec.record(_line(2), [])
        assert _routes(tmp_path) == []
        rec.record(_line(3), [])
        assert _routes(tmp_path) == ["r1/", "r2/", "r3/"]
        rec.record(_line(4), [])
        assert _routes(tmp_path) == ["r1/", "r2/", "r3/"]
        rec.flush()
        assert _routes(tmp_path) == ["r1/", "r2/", "r3/", "r4/"]
    assert (tmp_path / f"{os.getpid()}.jsonl").read_text().endswith("\n")


def test_a_held_line_is_written_with_the_next_one_a_second_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [100.0]
    monkeypatch.setattr(recorder_module, "monotonic", lambda: clock[0])
    monkeypatch.setattr(recorder_module, "_HOLD_SECONDS", 1.0)
    with override_settings(PERFTOOLKIT={"RECORD_BUFFER": 1 << 20}):
        rec = Recorder(str(tmp_path))
        rec.record(_line(1), [])
        clock[0] = 100.9
        rec.record(_line(2), [])
        assert _routes(tmp_path) == []
        clock[0] = 101.0
        rec.record(_line(3), [])
        assert _routes(tmp_path) == ["r1/", "r2/", "r3/"]


def _wait_for(directory: Path, count: int, seconds: float = 10.0) -> list[str]:
    """The routes on disk once there are `count` of them, or after `seconds` (a deadline for a
    background write, not a measure of its speed)."""
    deadline = time.monotonic() + seconds
    routes = _routes(directory)
    while len(routes) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        routes = _routes(directory)
    return routes


def _flush_thread() -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name == "perftoolkit-record-flush"), None)


def test_held_lines_of_a_server_gone_idle_are_written_a_second_later_without_a_request(
    tmp_path: Path, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No request comes to write them: the background thread does, once the oldest is a second
    old, for lines held as bytes and for requests held whole alike."""
    monkeypatch.setattr(recorder_module, "_HOLD_SECONDS", 1.0)
    record_dir = tmp_path / "rec"
    settings = {"MODE": "log", "RECORD_DIR": str(record_dir), "RECORD_BUFFER": 1 << 20}
    with override_settings(PERFTOOLKIT=settings):
        Client().get("/mw/lookup/?name=x")  # diagnosed at once: its line is held as bytes
        Client().get("/mw/none/")  # nothing to find: held whole
        recorder = recorder_module.recorder_for(str(record_dir))
        assert (len(recorder._pending), len(recorder._held) > 0) == (1, True)
        held_at = time.monotonic()
        routes = _wait_for(record_dir, 2)
        written_after = time.monotonic() - held_at
    assert routes == ["mw/lookup/", "mw/none/"]
    assert (list(recorder._pending), bytes(recorder._held)) == ([], b"")
    assert written_after > 0.5  # not before the oldest was (nearly) a second old
    thread = _flush_thread()
    assert thread is not None
    assert thread.daemon  # never keeps a process from exiting


def test_the_background_thread_writes_what_a_recorder_holds_again_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread waits for the next line held after it wrote the last ones."""
    monkeypatch.setattr(recorder_module, "_HOLD_SECONDS", 0.2)
    with override_settings(PERFTOOLKIT={"RECORD_BUFFER": 1 << 20}):
        rec = recorder_module.recorder_for(str(tmp_path))
        rec.record(_line(1), [])
        assert _wait_for(tmp_path, 1) == ["r1/"]
        rec.record(_line(2), [])
        rec.record(_line(3), [])
        assert _wait_for(tmp_path, 3) == ["r1/", "r2/", "r3/"]
    assert rec.held_since() is None


def test_a_report_built_in_the_process_sees_the_held_lines(tmp_path: Path, db: None) -> None:
    record_dir = tmp_path / "rec"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir), "RECORD_BUFFER": 1 << 20}):
        for _ in range(3):
            assert Client().get(PATH).status_code == 200
        assert _routes(record_dir) == []
        run = build_report(record_dir)
    [endpoint] = run.endpoints
    assert (endpoint.route, endpoint.requests) == ("mw/three/", 3)
    assert _routes(record_dir) == ["mw/three/"] * 3


def test_a_failed_write_of_held_lines_is_logged_and_nothing_is_torn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(PERFTOOLKIT={"RECORD_BUFFER": 1 << 20}):
        rec = recorder_module.recorder_for(str(tmp_path))
        rec.record(_line(1), [])
        rec.flush()
        rec.record(_line(2), [])
        real_write = os.write
        monkeypatch.setattr(recorder_module.os, "write", lambda fd, data: real_write(fd, data[:5]))
        flush_recorders()
        monkeypatch.undo()
        rec.record(_line(3), [])
        rec.flush()
    assert _routes(tmp_path) == ["r1/", "r3/"]
    assert "held record lines" in caplog.text
    assert "short write: 5 of" in caplog.text


def _forking_script(directory: Path, body: str) -> str:
    """A script that sets up Django with RECORD_BUFFER, holds a line of route `parent/` in a
    recorder `rec` of `directory`, then runs `body`."""
    prelude = f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
        import django
        from django.conf import settings
        django.setup()
        settings.PERFTOOLKIT = {{"RECORD_BUFFER": 1 << 20}}
        from perftoolkit.conf import reset_settings
        reset_settings()
        from perftoolkit.middleware.recorder import recorder_for
        rec = recorder_for({str(directory)!r})
        rec.record({{"method": "GET", "route": "parent/", "queries": []}}, [])
        """
    return textwrap.dedent(prelude) + textwrap.dedent(body)


def test_held_lines_are_written_before_a_fork_and_at_exit(tmp_path: Path) -> None:
    """In a process of its own: the parent's held line is written once (before the fork), the
    child's own held line at its exit, and the parent's last one at its exit."""
    script = _forking_script(
        tmp_path,
        """
        pid = os.fork()
        if pid == 0:
            rec.record({"method": "GET", "route": "child/", "queries": []}, [])
            sys.exit(0)
        os.waitpid(pid, 0)
        rec.record({"method": "GET", "route": "parent-2/", "queries": []}, [])
        """,
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, cwd=ROOT)
    assert sorted(_routes(tmp_path)) == ["child/", "parent-2/", "parent/"]
    files = sorted(p.name for p in tmp_path.glob("*.jsonl"))
    assert len(files) == 2  # the parent's and the child's


def test_a_forked_child_writes_its_idle_lines_with_a_thread_of_its_own(tmp_path: Path) -> None:
    """The parent's background thread is not in a forked child (gunicorn's workers): the child
    starts its own when it holds a line, and writes it a second later without exiting."""
    script = _forking_script(
        tmp_path,
        f"""
        pid = os.fork()
        if pid == 0:
            rec.record({{"method": "GET", "route": "child/", "queries": []}}, [])
            path = os.path.join({str(tmp_path)!r}, f"{{os.getpid()}}.jsonl")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with open(path) as f:
                    if f.read():
                        os._exit(0)  # no exit flush: the line is on disk by the thread
                time.sleep(0.05)
            os._exit(3)
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
        """,
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=60, cwd=ROOT)
    assert done.returncode == 0
    assert sorted(_routes(tmp_path)) == ["child/", "parent/"]
    files = sorted(p.name for p in tmp_path.glob("*.jsonl"))
    assert len(files) == 2  # the parent's and the child's


def _lines(directory: Path) -> list[dict[str, Any]]:
    return [
        json.loads(t) for f in sorted(directory.glob("*.jsonl")) for t in f.read_text().splitlines()
    ]


def _shape(line: dict[str, Any]) -> dict[str, Any]:
    """A line without its times (they differ from one request to the next)."""
    kept = {k: v for k, v in line.items() if k not in ("started_at", "duration_ms")}
    kept["queries"] = [[q[0], *q[2:]] for q in line["queries"]]
    return kept


@pytest.mark.parametrize("path", [PATH, "/mw/none/", "/mw/cached/", "/corpus/chain2/"])
def test_a_held_requests_line_is_built_when_it_is_written_and_is_the_same(
    tmp_path: Path, db: None, path: str
) -> None:
    """With RECORD_BUFFER the middleware hands the request to the recorder, which builds its
    line with the other held ones: the same line as without a buffer, and its new statements
    sampled."""
    from tests.corpus.models import Author, Book, Country, Publisher

    publisher = Publisher.objects.create(name="p", country=Country.objects.create(name="c"))
    for i in range(3):
        Book.objects.create(
            title=f"b{i}", author=Author.objects.create(name=f"a{i}", publisher=publisher)
        )
    from django.core.cache import cache

    at_once, held = tmp_path / "at-once", tmp_path / "held"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(at_once), "RECORD_BUFFER": 0}):
        cache.clear()  # the cached view reads a miss first
        Client().get(path)
        assert len(_lines(at_once)) == 1  # written as the request ended
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(held), "RECORD_BUFFER": 1 << 20}):
        cache.clear()
        Client().get(path)
        assert _lines(held) == []
        assert recorder_module.recorder_for(str(held))._pending  # held, not yet built
        flush_recorders()
    [expected], [line] = _lines(at_once), _lines(held)
    assert _shape(line) == _shape(expected)
    counts = {PATH: 3, "/mw/none/": 0, "/mw/cached/": 0}
    assert len(line["queries"]) == counts.get(path, len(expected["queries"]))
    assert line["queries"] or path in ("/mw/none/", "/mw/cached/")

    def samples(directory: Path) -> list[str]:
        return sorted(p.name for p in (directory / "samples").glob("*"))

    assert samples(held) == samples(at_once)
    assert len(samples(held)) == len(line["statements"])


def test_held_requests_are_built_and_written_when_their_lines_fill_the_buffer(
    tmp_path: Path, db: None
) -> None:
    record_dir = tmp_path / "rec"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir), "RECORD_BUFFER": 1}):
        Client().get("/mw/none/")
        assert [line["route"] for line in _lines(record_dir)] == ["mw/none/"]
        Client().get(PATH)
        assert [line["route"] for line in _lines(record_dir)] == ["mw/none/", "mw/three/"]


def test_at_most_64_requests_are_held_before_their_lines_are_built(
    tmp_path: Path, db: None
) -> None:
    record_dir = tmp_path / "rec"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir), "RECORD_BUFFER": 1 << 30}):
        for _ in range(63):
            Client().get("/mw/none/")
        assert _lines(record_dir) == []
        Client().get("/mw/none/")
        assert len(_lines(record_dir)) == 64
        assert list(recorder_module.recorder_for(str(record_dir))._pending) == []


def test_a_request_of_more_queries_than_held_whole_has_its_line_built_at_once(
    tmp_path: Path, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request of many queries is not held whole (its captured queries cost the garbage
    collector more than building its line with the others saves): its line is built after the
    response and held as bytes; one of fewer is held whole."""
    record_dir = tmp_path / "rec"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir)}):
        recorder = recorder_module.recorder_for(str(record_dir))
        for most, whole, built in ((3, 1, False), (2, 1, True)):
            monkeypatch.setattr(query_budget, "_HELD_QUERIES_MAX", most)
            Client().get(PATH)  # three queries
            assert (len(recorder._pending), bool(recorder._held)) == (whole, built)
        assert _lines(record_dir) == []
        flush_recorders()
        assert [line["route"] for line in _lines(record_dir)] == ["mw/three/", "mw/three/"]
        assert [len(line["queries"]) for line in _lines(record_dir)] == [3, 3]


def test_a_held_request_whose_line_fails_is_recorded_abandoned_and_the_others_whole(
    tmp_path: Path, db: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from perftoolkit.middleware.capture import failures, profile

    record_dir = tmp_path / "rec"
    calls = []

    def fails(capture: Any, *info: Any) -> dict[str, Any]:
        calls.append(info[1])
        raise RuntimeError("injected")

    failures.reset()
    monkeypatch.setattr(profile, "_known_lines", {})
    monkeypatch.setattr(profile, "profile_line", fails)
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir), "RECORD_BUFFER": 1 << 20}):
        responses = [Client().get(p).status_code for p in ("/mw/none/", PATH, "/mw/none/")]
        assert calls == []  # nothing is built while the requests run
        flush_recorders()
    assert calls == ["mw/three/"]  # a request that saw nothing has its line made otherwise
    failures.reset()
    assert responses == [200, 200, 200]
    lines = _lines(record_dir)
    assert [(line["route"], line.get("capture_error")) for line in lines] == [
        ("mw/none/", None),
        ("mw/three/", "profile"),
        ("mw/none/", None),
    ]
    assert "internal error in profile" in caplog.text


def test_in_log_mode_a_request_with_something_to_find_is_diagnosed_at_once_and_recorded(
    tmp_path: Path, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a request nothing will diagnose is held whole: one that may show a finding is
    diagnosed after its response, as without a buffer, and its line held as bytes."""
    import logging

    record_dir = tmp_path / "rec"
    settings = {"MODE": "log", "RECORD_DIR": str(record_dir), "RECORD_BUFFER": 1 << 20}
    with (
        override_settings(PERFTOOLKIT=settings),
        caplog.at_level(logging.WARNING, logger="perftoolkit"),
    ):
        Client().get("/mw/lookup/?name=x")  # one statement twice with the same parameters
        recorder = recorder_module.recorder_for(str(record_dir))
        assert (
            "The same query counting Tag rows with the same parameters ran 2 times" in caplog.text
        )
        assert (len(recorder._pending), len(recorder._held) > 0) == (0, True)
        Client().get("/mw/none/")  # nothing to find: held whole
        assert len(recorder._pending) == 1
        flush_recorders()
    assert [line["route"] for line in _lines(record_dir)] == ["mw/lookup/", "mw/none/"]


class _ListsBooks:
    """A class-based view's attributes: its line names the model and where its rows are built."""

    from tests.corpus.models import Book as model


@pytest.mark.parametrize(
    ("status", "view_class", "path", "query", "user"),
    [
        (200, None, "/mw/none/", "", None),
        (404, None, "/mw/none/", "page=2&q=%C3%A9", 7),
        (200, _ListsBooks, "/books/", "", "0f0e0d0c-0b0a-0908-0706-050403020100"),
        (200, None, "", "", None),
        (200, None, "/caf\udce9/", "", None),  # not UTF-8: orjson refuses it, json takes it
        (200, None, "/mw/none/", "", 1 << 70),  # past 64 bits, likewise
    ],
)
def test_the_line_of_a_request_that_saw_nothing_is_its_built_lines_values(
    status: int, view_class: Any, path: str, query: str, user: Any
) -> None:
    """A held request whose capture saw nothing has its line made from its endpoint's fixed part,
    encoded once, and its own numbers: the values of the line built key by key."""
    info = query_budget._Request(
        "GET", "mw/none/", "tests.views.no_queries", status, 1796664805.346861, 0.042,
        view_class, path, query, user,
    )  # fmt: skip
    quiet, raw = query_budget._quiet_described(None, info)
    built = query_budget.profile_line(query_budget._NOTHING_SEEN, *info)
    assert raw == []
    assert isinstance(quiet, bytes)
    assert quiet.endswith(b"}\n")
    assert quiet.count(b"\n") == 1
    assert json.loads(quiet) == json.loads(encode_line(built))
    assert json.loads(quiet)["started_at"] == 1796664805.346861
    assert ("queryset_model" in built) is (view_class is not None)
    again, _ = query_budget._quiet_described(None, info)  # from the head encoded the first time
    assert again == quiet


def test_a_request_that_saw_nothing_is_held_without_its_capture(tmp_path: Path, db: None) -> None:
    record_dir = tmp_path / "rec"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir)}):
        Client().get("/mw/none/?page=2")
        Client().get(PATH)
        pending = recorder_module.recorder_for(str(record_dir))._pending
        assert [(build.__name__, capture is None) for build, capture, _ in pending] == [
            ("_quiet_line", True),
            ("_held_line", False),
        ]
        flush_recorders()
        lines = _lines(record_dir)
        assert len(query_budget._quiet_heads) == 1  # made when the line was built
    assert [(line["route"], line.get("query"), len(line["queries"])) for line in lines] == [
        ("mw/none/", "page=2", 0),
        ("mw/three/", None, 3),
    ]
    reset_settings()  # PROJECT_ROOT may have changed: the views' sites with it
    assert query_budget._quiet_heads == {}


def _numbered(capture: None, info: int) -> tuple[bytes, list[Any]]:
    return encode_line(_line(info)), []


def test_requests_held_from_many_threads_while_others_are_written_are_each_written_once(
    tmp_path: Path,
) -> None:
    """`defer` takes no lock: requests held by eight threads at once, while the held ones are
    taken for writing every 64 (and by `flush` from another thread), are each written once."""
    recorder = Recorder(str(tmp_path))
    threads, per_thread = 8, 500
    start = threading.Barrier(threads + 1)
    done = threading.Event()

    def hold(first: int) -> None:
        start.wait()
        for n in range(first, first + per_thread):
            recorder.defer(_numbered, None, n, 1 << 30)

    def flush_meanwhile() -> None:
        start.wait()
        while not done.is_set():
            recorder.flush()

    workers = [threading.Thread(target=hold, args=(i * per_thread,)) for i in range(threads)]
    flusher = threading.Thread(target=flush_meanwhile)
    for thread in [*workers, flusher]:
        thread.start()
    for thread in workers:
        thread.join()
    done.set()
    flusher.join()
    recorder.flush()
    routes = _routes(tmp_path)
    assert len(routes) == threads * per_thread
    assert sorted(routes) == sorted(f"r{n}/" for n in range(threads * per_thread))
    assert recorder.held_since() is None


def test_a_request_held_without_waking_the_thread_is_written_by_its_next_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The instant race `defer` leaves open (a request held as another empties the queue may not
    wake the background thread) costs a delay, never a line: the thread, idle, looks again."""
    monkeypatch.setattr(recorder_module, "_HOLD_SECONDS", 0.2)
    recorder = recorder_module.recorder_for(str(tmp_path))
    recorder.defer(_numbered, None, 1, 1 << 30)  # wakes the thread, and opens the file
    assert _wait_for(tmp_path, 1) == ["r1/"]
    deadline = time.monotonic() + 10
    while not recorder_module._idle and time.monotonic() < deadline:
        time.sleep(0.01)
    assert recorder_module._idle
    recorder._pending.append((_numbered, None, 2))  # held without `defer`'s wake-up
    assert _wait_for(tmp_path, 2) == ["r1/", "r2/"]


def test_a_held_request_is_described_when_its_line_is_built_unless_its_body_was_read(
    tmp_path: Path, db: None
) -> None:
    """A held request is kept undescribed until its line is built; one whose body was read into
    memory is described as it ends, so that its body is not kept until then."""
    record_dir = tmp_path / "rec"
    body = b"x" * 100_000
    before = time.time()
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir)}):
        assert Client().get("/mw/none/?page=2").status_code == 200
        posted = Client().post("/mw/echo/", body, content_type="application/octet-stream")
        assert posted.json() == {"length": 100_000}
        pending = list(recorder_module.recorder_for(str(record_dir))._pending)
        assert [(build.__name__, type(held).__name__) for build, _, held in pending] == [
            ("_quiet_line", "tuple"),
            ("_quiet_described", "_Request"),
        ]
        assert not any(
            isinstance(value, HttpRequest) for _, _, held in pending[1:] for value in held
        )
        ended = time.time()
        flush_recorders()
    lines = _lines(record_dir)
    assert [(line["method"], line["route"], line.get("query")) for line in lines] == [
        ("GET", "mw/none/", "page=2"),
        ("POST", "mw/echo/", None),
    ]
    # The wall-clock start, made from the request's own clock readings when it is described.
    assert lines[0]["started_at"] <= lines[1]["started_at"]
    assert before - 1e-6 <= lines[0]["started_at"]
    assert lines[1]["started_at"] + lines[1]["duration_ms"] / 1000 <= ended + 1e-6


def test_held_requests_take_the_wall_clock_offset_read_within_a_second_of_their_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A held request's start is its own `perf_counter_ns()` reading made wall-clock time by an
    offset read once for the requests that ended within a second of that read, not two clock
    reads per request; a request further away reads it again (a wall clock set meanwhile)."""
    from django.test import RequestFactory

    clocks = {"perf": 5_000_000_000, "wall": 1_796_664_805_000_000_000}
    monkeypatch.setattr(query_budget, "perf_counter_ns", lambda: clocks["perf"])
    monkeypatch.setattr(query_budget, "time_ns", lambda: clocks["wall"])
    monkeypatch.setattr(query_budget, "_wall", (0, -(1 << 62)))
    request = RequestFactory().get("/mw/none/")

    def started(start: int, end: int) -> float:
        return query_budget._described((request, 200, start, end)).started_at

    offset = clocks["wall"] - clocks["perf"]
    assert started(4_000_000_000, 4_500_000_000) == (4_000_000_000 + offset) // 1000 / 1e6
    clocks["wall"] += 3_600_000_000_000  # the wall clock set an hour on
    # Ended within a second of the offset's read: the offset as read then.
    assert started(5_100_000_000, 5_900_000_000) == (5_100_000_000 + offset) // 1000 / 1e6
    clocks["perf"] = 7_000_000_000
    later = clocks["wall"] - clocks["perf"]
    assert started(6_500_000_000, 6_900_000_000) == (6_500_000_000 + later) // 1000 / 1e6
    assert query_budget._described((request, 200, 1, 2)).duration_ms == 0.0
    assert query_budget._described((request, 200, 0, 1_234_567)).duration_ms == 1.235


@pytest.mark.parametrize(
    ("path", "status", "user"),
    [
        ("/mw/none/", 200, None),
        ("/mw/none/?page=2&q=%C3%A9", 404, None),
        ("/mw/regex/12/", 200, 7),
        ("/mw/none/", 200, "0f0e0d0c-0b0a-0908-0706-050403020100"),
    ],
)
def test_a_quiet_line_made_from_a_requests_values_is_its_described_ones(
    path: str, status: int, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request held as its values (`_Taken`) that saw nothing has its line made from its
    endpoint's head and its numbers, without a description made first: the values of the line
    made from the request's description. Before the head is encoded, it is described."""
    from types import SimpleNamespace

    from django.test import RequestFactory
    from django.urls import resolve

    request = RequestFactory().get(path)
    match = request.resolver_match = resolve(request.path_info)
    if user is not None:
        request._cached_user = SimpleNamespace(is_authenticated=True, pk=user)
    end = time.perf_counter_ns()
    start = end - 1_234_567
    query_budget._quiet_heads.clear()
    described, _ = query_budget._quiet_described(
        None, query_budget._described((request, status, start, end))
    )
    endpoint = query_budget._endpoints[match.route, match.func]
    taken = (
        "GET", endpoint, status, start, end, request.path_info,
        request.META.get("QUERY_STRING", ""), query_budget._user_id(request),
    )  # fmt: skip
    calls: list[Any] = []
    taken_request = query_budget._taken_request
    monkeypatch.setattr(query_budget, "_taken_request", lambda held: calls.append(held))
    quiet, raw = query_budget._quiet_taken(None, taken)
    assert calls == []  # made without a description: the head was encoded above
    assert raw == []
    assert isinstance(quiet, bytes)
    assert isinstance(described, bytes)
    assert json.loads(quiet) == json.loads(described)
    line = json.loads(quiet)
    assert (line["status"], line.get("user"), line["duration_ms"]) == (status, user, 1.235)
    assert line["path"] == request.path_info
    assert line.get("query") == (path.split("?", 1)[1] if "?" in path else None)
    monkeypatch.setattr(query_budget, "_taken_request", taken_request)
    query_budget._quiet_heads.clear()
    first, _ = query_budget._quiet_taken(None, taken)  # described, and the head encoded
    assert isinstance(first, bytes)
    assert json.loads(first) == json.loads(described)
    assert len(query_budget._quiet_heads) == 1


def test_a_request_of_a_known_endpoint_is_held_as_its_values_not_itself(
    tmp_path: Path, db: None
) -> None:
    """Once its endpoint is known, a held request is held as the values its line is made of (not
    the request, whose objects the garbage collector would traverse until then), with or without
    statements, and its line is the one a request held whole has."""
    from tests.corpus.models import Author, Book, Country, Publisher

    publisher = Publisher.objects.create(name="p", country=Country.objects.create(name="c"))
    for i in range(3):
        Book.objects.create(
            title=f"b{i}", author=Author.objects.create(name=f"a{i}", publisher=publisher)
        )
    record_dir = tmp_path / "rec"
    client = Client()
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir)}):
        recorder = recorder_module.recorder_for(str(record_dir))
        for path in ("/mw/none/?page=2", PATH):
            assert client.get(path).status_code == 200
        # Its endpoint is not known until the first request's line is built: held whole.
        assert [build.__name__ for build, _, _ in recorder._pending] == [
            "_quiet_line",
            "_held_line",
        ]
        flush_recorders()
        for path in ("/mw/none/?page=3", PATH):
            assert client.get(path).status_code == 200
        pending = list(recorder._pending)
        assert [build.__name__ for build, _, _ in pending] == ["_quiet_taken", "_taken_line"]
        for (_, _, held), route, view, path, query in zip(
            pending,
            ("mw/none/", "mw/three/"),
            ("tests.views.no_queries", "tests.views.three_queries"),
            ("/mw/none/", PATH),
            ("page=3", ""),
            strict=True,
        ):
            assert not any(isinstance(value, HttpRequest) for value in held)
            method, endpoint, status, start, end, held_path, held_query, user_id = held
            assert (method, endpoint[:2], status, held_path, held_query, user_id) == (
                "GET",
                (route, view),
                200,
                path,
                query,
                None,  # no user loaded
            )
            assert 0 < end - start < 60_000_000_000
        assert pending[0][1] is None  # saw nothing: held without its capture
        assert len(pending[1][1].queries) == 3
        flush_recorders()
    lines = _lines(record_dir)
    assert [(line["route"], line.get("query")) for line in lines] == [
        ("mw/none/", "page=2"),
        ("mw/three/", None),
        ("mw/none/", "page=3"),
        ("mw/three/", None),
    ]
    # The same line as the request held whole, but for its times and query string.
    assert {**_shape(lines[2]), "query": "page=2"} == _shape(lines[0])
    assert _shape(lines[3]) == _shape(lines[1])
    assert len(lines[3]["queries"]) == 3


@pytest.mark.parametrize(("path", "objects"), [("/mw/none/", 1), (PATH, 6)])
def test_held_requests_keep_few_objects_for_the_garbage_collector(
    tmp_path: Path, db: None, path: str, objects: int
) -> None:
    """A request held as its values keeps one object the garbage collector tracks alive until
    its line is built (its entry: its values hold none), and one that ran statements its capture
    too (the capture, its list and its three statements). Held whole, they kept 23 and 26, and
    held by the dozen they made the collector run (and move them to its older generations, whose
    collections traverse the whole process)."""
    import gc

    record_dir = tmp_path / "rec"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir), "RECORD_BUFFER": 1 << 24}):
        client = Client()
        client.get(path)
        flush_recorders()  # the endpoint known
        for _ in range(40):
            client.get(path)
        recorder = recorder_module.recorder_for(str(record_dir))
        gc.collect()
        held = len(gc.get_objects())
        taken = recorder._taken()
        assert len(taken) == 40
        del taken  # what only the held requests kept alive goes with them
        gc.collect()
        kept = (held - len(gc.get_objects())) / 40
    # (An object or two freed with them that others held too: 1.025 in a full run.)
    assert round(kept) == objects, kept


def test_a_failure_reading_a_known_endpoints_request_leaves_its_response_and_is_logged_once(
    tmp_path: Path, db: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The values of a request of a known endpoint are read as it ends, in the middleware: a
    failure there leaves the response the application's own, logs one error, and records nothing
    of that request."""
    import logging

    from perftoolkit.middleware.capture import failures

    failures.reset()
    record_dir = tmp_path / "rec"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir), "MODE": "header"}):
        client = Client()
        first = client.get("/mw/none/")
        flush_recorders()  # the endpoint known
        monkeypatch.setattr(query_budget, "_user_id", lambda request: 1 / 0)
        with caplog.at_level(logging.ERROR, logger="perftoolkit"):
            failing = [client.get("/mw/none/") for _ in range(3)]
        flush_recorders()
    failures.reset()
    assert first["X-Perf-Queries"] == "0"
    assert [(r.status_code, r.content, r.has_header("X-Perf-Queries")) for r in failing] == [
        (200, first.content, False)
    ] * 3
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith("perftoolkit: internal error in describe")
    assert len(_lines(record_dir)) == 1

"""An internal failure at any hook on the request path leaves the application's response exactly
as it is without perftoolkit: same status, headers and body. Each distinct failure place is
logged at ERROR once however many requests meet it, and the request's recording line notes
`capture_error` wherever the request could still be described."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client, override_settings

from perftoolkit.middleware import detectors, query_budget, recorder
from perftoolkit.middleware.capture import accesses, attribution, cachestats, context, failures
from perftoolkit.middleware.capture import capture as capture_module
from perftoolkit.middleware.capture import profile as profile_module
from perftoolkit.middleware.capture.capture import QueryCapture
from perftoolkit.middleware.recording import build_report
from tests.corpus.models import Author, Book, Country, Publisher
from tests.support.recordings import written_lines

PATH = "/mw/everything/"
AUTHENTICATED = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
REQUESTS = 3


class InjectedFault(Exception):
    pass


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise InjectedFault("injected")


# (name, object, attribute, replacement, the place the line notes; None: no line is written)
FAULTS: list[tuple[str, Any, str, Any, str | None]] = [
    ("settings", query_budget, "get_settings", _boom, None),
    ("new-capture", QueryCapture, "__init__", _boom, None),
    ("sampled-capture", query_budget, "_new_capture", _boom, None),
    ("activate", QueryCapture, "activate", _boom, "activate"),
    ("install", capture_module, "install_cache_counting", _boom, "install"),
    ("hook", capture_module, "hook_connections", _boom, "install"),
    ("query-hook", QueryCapture, "_record", _boom, "query"),
    ("frame-walk", capture_module, "walk", _boom, "query"),
    ("attribution", attribution, "queryset_of", _boom, "query"),
    ("call-site", capture_module, "callsite_of", _boom, "query"),
    ("cache-counter", cachestats, "_counters", _boom, "cache"),
    ("relation-read", accesses, "_ORM_DIR", None, "access"),  # `None in str`: a TypeError
    # A request held whole (RECORD_BUFFER, header mode here) is described as its line is built;
    # with RECORD_BUFFER 0 (and in log mode, which diagnoses this page) as it ends.
    ("describe", query_budget, "_describe_request", _boom, None),
    ("describe-unbuffered", query_budget, "_describe_request", _boom, None),
    ("user", query_budget, "_user_id", _boom, None),
    ("headers", query_budget, "_set_headers", _boom, None),
    ("profile", query_budget, "known_line", _boom, "profile"),
    ("profile-line", profile_module, "profile_line", _boom, "profile"),
    # In log mode the line is built (and written) before the profile, which only a new shape needs.
    ("build-profile", query_budget, "build_profile", _boom, ""),
    ("recorder", recorder.Recorder, "record", _boom, None),
    # RECORD_BUFFER: a request nothing is to be found in is handed to the recorder whole.
    ("held-recorder", recorder.Recorder, "defer", _boom, None),
    ("detection", detectors, "diagnose", _boom, ""),  # after the line: the line is whole
]


# Faults in what runs once the response is complete (its closers, or the hand-over of a held
# request): they cannot touch it.
AFTER_RESPONSE = {
    "describe",
    "user",
    "profile",
    "profile-line",
    "build-profile",
    "recorder",
    "held-recorder",
    "detection",
}
LOG_ONLY = {"build-profile", "detection"}
# Log mode builds the line from its profile; and diagnoses this page's requests as they end (it
# has something to find), never holding one whole.
HEADER_ONLY = {"headers", "profile", "profile-line", "held-recorder"}


def _unmeasured(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("Server-Timing", "X-Perf-Queries")}


@pytest.fixture
def books(db: None) -> None:
    country = Country.objects.create(name="c")
    publisher = Publisher.objects.create(name="p", country=country)
    for i in range(3):
        author = Author.objects.create(name=f"a{i}", publisher=publisher)
        Book.objects.create(title=f"b{i}", author=author)


@pytest.fixture(autouse=True)
def _forget_failures() -> Any:
    failures.reset()
    yield
    failures.reset()


def _snapshot(response: Any) -> tuple[int, dict[str, str], bytes]:
    return response.status_code, dict(response.headers), response.content


def _baseline() -> tuple[int, dict[str, str], bytes]:
    with override_settings(MIDDLEWARE=[]):
        return _snapshot(Client().get(PATH))


@pytest.mark.parametrize("mode", ["header", "log"])
@pytest.mark.parametrize(("name", "owner", "attribute", "replacement", "noted"), FAULTS)
def test_fault_leaves_response_untouched(
    books: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    name: str,
    owner: Any,
    attribute: str,
    replacement: Any,
    noted: str | None,
) -> None:
    if name in LOG_ONLY and mode != "log":
        pytest.skip("runs in log and raise modes only")
    if name in HEADER_ONLY and mode != "header":
        pytest.skip("runs in header mode only")
    expected = _baseline()
    record_dir = tmp_path / "rec"
    # As in a new process: no thread has its hooks set up yet (the set-up is what may fail).
    monkeypatch.setattr(capture_module, "threads_set_up", context.PerThread("DATABASES", "CACHES"))
    monkeypatch.setattr(profile_module, "_known_lines", {})  # every line is built: none known
    monkeypatch.setattr(owner, attribute, replacement)
    # A sampled capture is made only below a SAMPLE_RATE of 1.
    sampled = {"SAMPLE_RATE": 0.5} if name == "sampled-capture" else {}
    # `Recorder.record` writes (or holds) a line as its request ends: a request held whole, which
    # header mode's are by default, is written without it (the `held-recorder` fault).
    unbuffered = {"RECORD_BUFFER": 0} if name in ("recorder", "describe-unbuffered") else {}
    settings = {"MODE": mode, "RECORD_DIR": str(record_dir), **sampled, **unbuffered}
    # The user is read only from a request that has one set (by the authentication middleware).
    middleware = [*django_settings.MIDDLEWARE, *(AUTHENTICATED if name == "user" else [])]
    with (
        override_settings(PERFTOOLKIT=settings, MIDDLEWARE=middleware),
        caplog.at_level(logging.DEBUG, logger="perftoolkit"),
    ):
        responses = [_snapshot(Client().get(PATH)) for _ in range(REQUESTS)]
        # Held requests have their lines built as they are written: with the fault in place.
        lines = [json.loads(text) for text in written_lines(record_dir)]
    if name in AFTER_RESPONSE and mode == "header":
        # The failure comes after the response was complete: it carries the measurement.
        responses = [(s, _unmeasured(h), b) for s, h, b in responses]
    assert responses == [expected] * REQUESTS
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert isinstance(errors[0].exc_info[1], InjectedFault | TypeError)  # type: ignore[index]
    if noted is None:
        assert lines == []
        return
    assert len(lines) == REQUESTS
    assert [line.get("capture_error", "") for line in lines] == [noted] * REQUESTS
    monkeypatch.undo()
    run = build_report([record_dir])  # the reader takes the lines; abandoned, as unmeasured
    measured = 0 if noted else REQUESTS
    assert (run.unmeasured_requests, sum(e.requests for e in run.endpoints)) == (
        REQUESTS - measured,
        measured,
    )


def test_distinct_places_log_one_error_each(
    books: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(cachestats, "_counters", _boom)
    monkeypatch.setattr(QueryCapture, "_record", _boom)
    with (
        override_settings(PERFTOOLKIT={"MODE": "header"}),
        caplog.at_level(logging.DEBUG, logger="perftoolkit"),
    ):
        for _ in range(REQUESTS):
            assert Client().get(PATH).status_code == 200
            assert Client().get("/mw/cached/").status_code == 200
    errors = sorted(r.getMessage().split(" at ")[0] for r in caplog.records if r.levelno >= 40)
    assert errors == [
        "perftoolkit: internal error in cache",
        "perftoolkit: internal error in query",
    ]


def test_invalid_ignore_path_is_left_out(books: None) -> None:
    """No system check runs under gunicorn: a pattern that does not compile must not fail."""
    with override_settings(PERFTOOLKIT={"MODE": "header", "IGNORE_PATHS": ["(", "^/mw/none/"]}):
        measured = Client().get(PATH)
        ignored = Client().get("/mw/none/")
    assert (measured.status_code, ignored.status_code) == (200, 200)
    assert "X-Perf-Queries" in measured
    assert "X-Perf-Queries" not in ignored


def test_abandoned_lines_are_read_like_the_reference(
    books: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `capture_error` line is a request that was not measured: no endpoint counts it (its
    query count is unknown, not zero), the run counts it and says where the capture failed; one
    whose `capture_error` is not text is a bad line, skipped and counted."""
    from tests.middleware.test_report_stream import comparable
    from tests.support.reference_build import reference_report

    record_dir = tmp_path / "rec"
    with override_settings(PERFTOOLKIT={"RECORD_DIR": str(record_dir)}):
        Client().get(PATH)
        monkeypatch.setattr(cachestats, "_counters", _boom)
        Client().get(PATH)
        monkeypatch.undo()
    # In the order the requests came: a request held whole (RECORD_BUFFER) has its line written
    # after those held as lines, as the abandoned one is.
    whole, abandoned = sorted(
        (json.loads(t) for t in written_lines(record_dir)), key=lambda line: line["started_at"]
    )
    [file] = record_dir.glob("*.jsonl")
    assert abandoned["capture_error"] == "cache"
    run = build_report([record_dir], label="x")
    assert comparable(run) == comparable(reference_report([record_dir], label="x"))
    assert (run.unmeasured_requests, [(e.route, e.requests) for e in run.endpoints]) == (
        1,
        [(whole["route"], 1)],
    )
    assert [n for n in run.notes if "not measured" in n] == [
        "1 request was not measured: perftoolkit's own capture failed (cache ×1: the server's "
        "log has an ERROR 'perftoolkit: internal error in <place>' line with the traceback) on "
        f"GET {whole['route']} ×1. No endpoint counts them: their query counts are unknown, not "
        "zero."
    ]
    bad = {**abandoned, "capture_error": 7}
    with file.open("a") as out:
        out.write(json.dumps(bad) + "\n")
    run = build_report([record_dir])
    assert (run.skipped_lines, run.unmeasured_requests) == (1, 1)
    assert sum(e.requests for e in run.endpoints) == 1
    assert whole.get("capture_error") is None

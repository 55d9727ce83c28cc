"""Lines of a shape recorded before: a request whose statements each ran once from callsites an
earlier request analysed has its line made from that request's, with its own times and target."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.middleware import query_budget
from perftoolkit.middleware.capture import profile
from perftoolkit.middleware.recorder import encode_line
from tests.support.recordings import PATHS, record_corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool, bool]]:
    """Each recorded line: (its path, whether it was made from its shape's, without building it,
    whether it has the values of the line built key by key). Nothing is known before the test."""
    monkeypatch.setattr(profile, "_known_lines", {})
    asked: list[tuple[str, bool, bool]] = []
    built: list[int] = []
    real_line, real_profile_line = profile.known_line, profile.profile_line

    def counted(*args: Any) -> dict[str, Any]:
        built.append(1)
        return real_profile_line(*args)

    def compared(capture: Any, *info: Any) -> dict[str, Any]:
        built.clear()
        line = real_line(capture, *info)
        made = not built
        expected = real_profile_line(capture, *info)
        same = json.loads(encode_line(line)) == json.loads(encode_line(expected))
        asked.append((info[7], made, same))
        return line

    monkeypatch.setattr(profile, "profile_line", counted)
    monkeypatch.setattr(query_budget, "known_line", compared)
    return asked


# The corpus's problems (most repeat a statement) and views of a few statements: two aliases,
# cache reads, a lookup, a library's view, a URL parameter.
MORE = [
    "/mw/three/", "/mw/aliases/", "/mw/cached/", "/mw/lookup/", "/mw/everything/",
    "/mw/library/", "/mw/regex/3/", "/mw/clock/", "/corpus/detail/1/",
]  # fmt: skip


def test_a_known_shapes_line_has_the_values_of_the_line_built_again(
    tmp_path: Path, known: list[tuple[str, bool, bool]]
) -> None:
    paths = PATHS + MORE
    lines = record_corpus(tmp_path, paths, times=3)
    assert len(lines) == 3 * len(paths)
    assert [path for path, _, same in known if not same] == []
    served = {path for path, made, _ in known if made}
    # statements from a view, a library's view, with cache reads, with eager loads, two aliases
    assert {
        "/mw/three/", "/mw/library/", "/mw/cached/", "/corpus/write_on_get/",
        "/corpus/some_rows/", "/corpus/eager_full/", "/corpus/unused_prefetch/", "/mw/aliases/",
    } <= served  # fmt: skip
    # Each request of a served path but the first is made from its shape.
    for path in served:
        assert [m for p, m, _ in known if p == path] == [False, True, True]


def test_a_request_whose_statement_repeats_is_built_every_time(
    tmp_path: Path, known: list[tuple[str, bool, bool]]
) -> None:
    record_corpus(tmp_path, ["/mw/three/", "/corpus/duplicate/"], times=3)
    asked = {path: [m for p, m, _ in known if p == path] for path, _, _ in known}
    assert asked["/mw/three/"] == [False, True, True]
    assert asked["/corpus/duplicate/"] == [False, False, False]  # its rows have parameters keys
    assert len(profile._known_lines) == 1  # a statement that repeats is not even looked up


def test_a_statement_whose_fields_cannot_be_hashed_has_its_lines_built_and_says_so_once(
    tmp_path: Path,
    known: list[tuple[str, bool, bool]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every field the capture sets is meant to be hashable; should one not be, the request's
    line is built key by key, every time, and a warning says so once."""
    import logging

    monkeypatch.setattr(profile, "_content", lambda query: [query.sql])  # a list: unhashable
    monkeypatch.setattr(profile, "_said_unhashable", False)
    with caplog.at_level(logging.WARNING, logger="perftoolkit"):
        record_corpus(tmp_path, ["/mw/three/"], times=3)
    assert [(made, same) for _, made, same in known] == [(False, True)] * 3
    assert profile._known_lines == {}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "perftoolkit: a recorded statement holds a value that cannot be hashed; the lines of its "
        "requests are built in full, each time"
    ]

"""A replay whose capture perftoolkit abandoned gives no query count: a partial count would make
an edit look like it saved queries."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.core.fix.responses import compile_volatile, keyed
from perftoolkit.fix.replay import _run
from perftoolkit.middleware.capture.capture import QueryCapture
from tests.reliability.test_never_breaking_host import PATH, books  # noqa: F401

pytestmark = pytest.mark.django_db(databases="__all__")
QUERIES = 4  # the view of PATH on the `books` rows: books, then an N+1 over 3 authors


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected into the per-query hook")


def test_replay_counts_the_queries_of_a_whole_capture(books: None) -> None:  # noqa: F811
    queries, key, error, _ = _run({"method": "GET", "path": PATH}, compile_volatile(()))
    assert (error, key is not None) == ("", True)
    assert queries == QUERIES


def test_replay_of_an_abandoned_capture_is_an_error_not_a_count(
    books: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole = _run({"method": "GET", "path": PATH}, compile_volatile(()))
    monkeypatch.setattr(QueryCapture, "_record", _boom)
    queries, key, error, sites = _run({"method": "GET", "path": PATH}, compile_volatile(()))
    assert (queries, error, sites) == (None, "perftoolkit's capture failed (query)", {})
    assert key == whole[1]  # the response itself was the application's own


def test_replay_keeps_the_normalised_body_under_its_digest(
    books: None,  # noqa: F811
    tmp_path: Path,
) -> None:
    _, key, error, _ = _run({"method": "GET", "path": PATH}, compile_volatile(()), str(tmp_path))
    assert error == ""
    kept = [p.name for p in tmp_path.iterdir()]
    assert kept == [key.digest]  # nothing else: no scratch file left beside it
    assert keyed(key.status, key.kind, (tmp_path / key.digest).read_bytes(), key.size) == key


def test_a_server_error_keeps_its_exception_for_the_reason() -> None:
    from perftoolkit.core.fix.responses import difference

    queries, key, error, _ = _run({"method": "GET", "path": "/mw/failing/"}, compile_volatile(()))
    assert (queries, error, key.status) == (1, "", 500)
    assert key.exception == "ValueError: the view failed at tests/views.py:36"
    ok = replace(key, status=200, exception="")
    assert difference(ok, key) == (
        "status 200 → 500 (ValueError: the view failed at tests/views.py:36)"
    )

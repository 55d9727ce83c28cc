"""A replay whose capture perftoolkit abandoned gives no query count: a partial count would make
an edit look like it saved queries."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.core.fix.responses import ResponseKey, compile_volatile, keyed, response_key
from perftoolkit.fix.replay import _run, local_caches
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


def test_replayed_caches_are_local_and_keep_the_projects_other_keys() -> None:
    """Project code that reads its cache settings (a context processor showing
    `settings.CACHES["default"]["TIMEOUT"]`) still finds them in the replay."""
    configured = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://localhost:6379/1",
            "TIMEOUT": 5000,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        },
        "sessions": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t"},
    }
    assert local_caches(configured) == {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "default",
            "TIMEOUT": 5000,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        },
        "sessions": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "sessions",
        },
    }


def test_a_rendered_now_is_not_data_but_another_time_is() -> None:
    """A form's initial "now" differs between two runs a second apart; the same page rendered
    in its own run's window is the same response. A time outside the window is data."""
    page = '<input name="time" value="{}"><p>born {}</p>'
    first = [(datetime(2026, 12, 5, 7, 15, 40), datetime(2026, 12, 5, 7, 15, 40, 800000))]
    second = [(datetime(2026, 12, 5, 7, 15, 41), datetime(2026, 12, 5, 7, 15, 42))]

    def key(now: str, born: str, window: list[tuple[datetime, datetime]]) -> ResponseKey:
        return response_key(200, "text/html", page.format(now, born).encode(), now=window)

    one = key("2026-12-05T07:15:40", "2026-12-05 07:00", first)
    assert one == key("2026-12-05T07:15:41", "2026-12-05 07:00", second)
    assert one != key("2026-12-05T07:15:41", "2026-12-05 07:01", second)
    assert one != key("2026-12-05T07:15:39", "2026-12-05 07:00", second)

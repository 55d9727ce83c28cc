"""A replay whose capture perftoolkit abandoned gives no query count: a partial count would make
an edit look like it saved queries."""

from __future__ import annotations

from typing import Any

import pytest

from perftoolkit.core.fix.responses import compile_volatile
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

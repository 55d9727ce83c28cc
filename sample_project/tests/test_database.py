"""DATABASE_URL parsing (no database needed)."""

from __future__ import annotations

import pytest

from sample_project.database import database_from_url, variant_url


@pytest.mark.parametrize("url", ["sqlite:///tmp/s.db", "sqlite:////tmp/s.db"])
def test_sqlite_urls_name_an_absolute_file_with_wal(url: str) -> None:
    database = database_from_url(url)

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == "/tmp/s.db"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]


def test_postgres_url() -> None:
    database = database_from_url("postgres://app:s%40cret@db.local:6543/perf")

    assert database == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "perf",
        "USER": "app",
        "PASSWORD": "s@cret",
        "HOST": "db.local",
        "PORT": "6543",
    }


def test_postgres_url_defaults() -> None:
    database = database_from_url("postgresql://127.0.0.1/perf")

    assert (database["USER"], database["PORT"]) == ("postgres", "5432")


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/db", "postgres://localhost:5432/", "sqlite://relative.db"]
)
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL"):
        database_from_url(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://postgres@127.0.0.1:5432/sample",
            "postgres://postgres@127.0.0.1:5432/sample_after",
        ),
        ("sqlite:////tmp/sample.sqlite3", "sqlite:////tmp/sample-after.sqlite3"),
    ],
)
def test_variant_url_gives_each_variant_its_own_database(url: str, expected: str) -> None:
    assert variant_url(url, "after") == expected

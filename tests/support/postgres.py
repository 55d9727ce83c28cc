"""PostgreSQL for the tests: where it is, and whether a missing server skips or fails.

CI sets PERFTOOLKIT_REQUIRE_POSTGRES=1, which turns every "PostgreSQL is not reachable" skip into a
failure, so a broken server can never pass as green.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get("PERFTOOLKIT_POSTGRES_URL", DEFAULT_URL)


def test_database_name() -> str:
    """The database pytest-django creates is test_<this>; distinct per checkout if needed."""
    return os.environ.get("PERFTOOLKIT_PG_DBNAME", "perftoolkit")


def django_database() -> dict[str, object]:
    parts = urlsplit(server_url())
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": test_database_name(),
        "USER": parts.username or "postgres",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
        "TEST": {"NAME": f"test_{test_database_name()}"},
    }


def unreachable_reason() -> str | None:
    """None when a TCP connection to the server succeeds, else why not."""
    parts = urlsplit(server_url())
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return f"PostgreSQL is not reachable at {host}:{port} ({exc}); set PERFTOOLKIT_POSTGRES_URL"


def required() -> bool:
    return os.environ.get("PERFTOOLKIT_REQUIRE_POSTGRES", "") not in ("", "0")


def skip_or_fail(reason: str) -> None:
    if required():
        pytest.fail(f"{reason} (PERFTOOLKIT_REQUIRE_POSTGRES=1 turns this skip into a failure)")
    pytest.skip(reason)


def using_postgres() -> bool:
    return os.environ.get("PERFTOOLKIT_TEST_DATABASE", "sqlite") == "postgres"


def gate_session(items: list[pytest.Item]) -> None:
    """In a PostgreSQL session without a server: skip every test, or stop with an error in CI."""
    if not using_postgres() or not items or (reason := unreachable_reason()) is None:
        return
    if required():
        pytest.exit(f"{reason} (PERFTOOLKIT_REQUIRE_POSTGRES=1 forbids skipping)", returncode=1)
    for item in items:
        item.add_marker(pytest.mark.skip(reason=reason))

"""MariaDB (or MySQL) for the tests: where it is, the driver, and whether a missing server skips
or fails.

`make test-mariadb` runs the tests marked `mariadb` with PERFTOOLKIT_TEST_DATABASE=mariadb against
127.0.0.1:3306 (root, no password), in the database test_<PERFTOOLKIT_MYSQL_DBNAME> that
pytest-django creates. CI sets PERFTOOLKIT_REQUIRE_MARIADB=1, which turns every "MariaDB is not
reachable" skip into a failure. The driver is PyMySQL, pure Python (ARCHITECTURE.md says why),
standing in for mysqlclient's `MySQLdb` unless mysqlclient itself is installed.
"""

from __future__ import annotations

import os
import socket

import pytest

DATABASE = "mariadb"


def using_mariadb() -> bool:
    return os.environ.get("PERFTOOLKIT_TEST_DATABASE", "sqlite") == DATABASE


def host() -> tuple[str, int]:
    return os.environ.get("PERFTOOLKIT_MYSQL_HOST", "127.0.0.1"), int(
        os.environ.get("PERFTOOLKIT_MYSQL_PORT", "3306")
    )


def test_database_name() -> str:
    return os.environ.get("PERFTOOLKIT_MYSQL_DBNAME", "perftoolkit")


def django_database() -> dict[str, object]:
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        import pymysql

        pymysql.install_as_MySQLdb()
    address, port = host()
    return {
        "ENGINE": "django.db.backends.mysql",
        "NAME": test_database_name(),
        "USER": os.environ.get("PERFTOOLKIT_MYSQL_USER", "root"),
        "PASSWORD": os.environ.get("PERFTOOLKIT_MYSQL_PASSWORD", ""),
        "HOST": address,
        "PORT": str(port),
        "OPTIONS": {"charset": "utf8mb4"},
        "TEST": {"NAME": f"test_{test_database_name()}", "CHARSET": "utf8mb4"},
    }


def unreachable_reason() -> str | None:
    address, port = host()
    try:
        with socket.create_connection((address, port), timeout=2):
            return None
    except OSError as exc:
        return f"MariaDB is not reachable at {address}:{port} ({exc}); set PERFTOOLKIT_MYSQL_HOST"


def required() -> bool:
    return os.environ.get("PERFTOOLKIT_REQUIRE_MARIADB", "") not in ("", "0")


def gate_session(items: list[pytest.Item]) -> None:
    """In a MariaDB session without a server: skip every test, or stop with an error in CI."""
    if not using_mariadb() or not items or (reason := unreachable_reason()) is None:
        return
    if required():
        pytest.exit(f"{reason} (PERFTOOLKIT_REQUIRE_MARIADB=1 forbids skipping)", returncode=1)
    for item in items:
        item.add_marker(pytest.mark.skip(reason=reason))


def require_mysql(vendor: str) -> None:
    """Skip a MySQL-only test outside the MariaDB session (it runs there, in `make test`)."""
    if vendor != "mysql":
        pytest.skip("MySQL/MariaDB only: runs in the MariaDB session (make test-mariadb)")

"""`DATABASE_URL` → a Django `DATABASES` entry, for the two URL shapes the sample project needs.

`sqlite:///abs/path.db` (also `sqlite:////abs/path.db`) and
`postgres://user:password@host:port/name` (`postgresql://` too, psycopg 3). A dozen lines do not
justify a dependency.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

# WAL lets several gunicorn workers read while one writes; IMMEDIATE takes the write lock at
# BEGIN, so concurrent writers wait (busy timeout) instead of failing with "database is locked".
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def sqlite_database(path: Path | str) -> dict[str, Any]:
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": SQLITE_OPTIONS}


def database_from_url(url: str) -> dict[str, Any]:
    """The `DATABASES["default"]` dict for `url`; ValueError for any other scheme."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = url[len("sqlite://") :]
        if path == "/:memory:" or path == ":memory:":
            return sqlite_database(":memory:")
        if not path.startswith("/"):
            raise ValueError(f"DATABASE_URL {url!r}: use an absolute path, sqlite:////abs/path.db")
        return sqlite_database("/" + unquote(path).lstrip("/"))
    if parts.scheme in ("postgres", "postgresql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ValueError(f"DATABASE_URL {url!r} names no database")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or "postgres"),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "127.0.0.1",
            "PORT": str(parts.port or 5432),
        }
    raise ValueError(f"DATABASE_URL {url!r}: only sqlite:// and postgres:// are supported")


def variant_url(url: str, variant: str) -> str:
    """The same database for one variant: `<name>_<variant>` on PostgreSQL, `<stem>-<variant>` file."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = Path(url[len("sqlite://") :])
        return "sqlite://" + str(path.with_name(f"{path.stem}-{variant}{path.suffix}"))
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{variant}"))

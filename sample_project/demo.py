"""`make demo`: prepare both variants of the sample project and say what the demo does.

Each variant gets its own database, migrated and seeded: SQLite files beside manage.py by
default, or with DATABASE_URL=postgres://user@host:port/name the databases name_before and
name_after (created when missing). SAMPLE_SIZE picks the data set (small by default).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sample_project.database import database_from_url, variant_url  # noqa: E402

VARIANTS = ("before", "after")
PLAN = """
What the demo does, once the audit lands:
  1. audit `before`: serve it with gunicorn, drive it with Locust, record every query
     -> reports/before/ (report.json + index.html)
  2. audit `after` the same way
     -> reports/after/
  3. compare the two runs: queries, latency and findings per endpoint
     -> reports/compare/

The audit step arrives with `manage.py perf_audit`; for now the demo stops after seeding.
Explore a variant by hand:
  cd sample_project && SAMPLE_VARIANT=after ../.venv/bin/python manage.py runserver
"""


def main() -> int:
    size = os.environ.get("SAMPLE_SIZE", "small")
    print(f"perftoolkit demo: preparing the sample project's two variants ({size} data)")
    for variant in VARIANTS:
        env = {**os.environ, "SAMPLE_VARIANT": variant}
        if url := os.environ.get("DATABASE_URL"):
            env["DATABASE_URL"] = variant_url(url, variant)
            ensure_postgres_database(env["DATABASE_URL"])
        where = env.get("DATABASE_URL") or HERE / f"db-{variant}.sqlite3"
        manage(env, "migrate", "--verbosity", "0")
        seeded = manage(env, "seed_sample", "--size", size)
        print(f"  {variant:<6} {where}: {seeded.splitlines()[0]}")
    print(PLAN)
    return 0


def manage(env: dict[str, str], *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=HERE, env=env, capture_output=True, text=True
    )
    if run.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{run.stderr or run.stdout}")
    return run.stdout


def ensure_postgres_database(url: str) -> None:
    """CREATE DATABASE for a postgres:// URL whose database does not exist yet."""
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg
    from psycopg import sql

    db = database_from_url(url)
    server = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"]}
    with psycopg.connect(
        dbname="postgres", password=db["PASSWORD"], autocommit=True, **server
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


if __name__ == "__main__":
    sys.exit(main())

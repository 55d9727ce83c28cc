"""PostgreSQL: `EXPLAIN (FORMAT JSON)` after `ANALYZE`, candidates tried as hypopg hypothetical
indexes (nothing is built) or as real indexes in a transaction that is rolled back.

A whole advice run is one transaction rolled back at the end (so even `CREATE EXTENSION hypopg`
leaves no trace), each statement in a savepoint so one failing EXPLAIN costs only its own plan.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import DatabaseError, connections, transaction

from perftoolkit.core.indexes.plans import (
    Judgement,
    PostgresPlan,
    judge_postgres,
    parse_postgres_plan,
)
from perftoolkit.core.indexes.review import IndexUsage
from perftoolkit.core.indexes.sqlshape import numbered_placeholders, placeholder_count
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.indexes.explain import (
    ExplainQuery,
    IndexSpec,
    Plan,
    index_columns,
    plans_with_rolled_back_index,
    unexplained,
)

_statement_names = itertools.count(1)


class PostgresExplainer:
    vendor = "postgresql"

    def __init__(
        self,
        using: str,
        *,
        verify_with: str | None = None,
        min_cost_factor: float = 1.5,
        literals: bool = False,
    ) -> None:
        self.using = using
        self.connection = connections[using]
        self.min_cost_factor = min_cost_factor
        self.literals = literals
        self.requested = verify_with
        self.method = verify_with or ("hypopg" if self.hypopg_available() else "rollback")
        if self.method == "hypopg" and not self.hypopg_available():
            settings = self.connection.settings_dict
            raise ConfigurationError(
                f"--verify-with hypopg: the PostgreSQL server of database {using!r} "
                f"({settings.get('HOST') or 'local socket'}:{settings.get('PORT') or 5432}) has no "
                "hypopg extension. Install it on the server (Debian: apt-get install "
                "postgresql-<major>-hypopg), or pass --verify-with rollback to build each "
                "candidate for real inside a transaction that is rolled back."
            )

    def hypopg_available(self) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'")
            return cursor.fetchone() is not None

    @contextmanager
    def session(self) -> Iterator[None]:
        with transaction.atomic(using=self.using):
            try:
                if self.method == "hypopg":
                    self._create_extension()
                yield
            finally:
                transaction.set_rollback(True, using=self.using)

    def _create_extension(self) -> None:
        try:
            with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        except DatabaseError as exc:
            if self.requested == "hypopg":
                raise ConfigurationError(
                    f"CREATE EXTENSION hypopg failed on database {self.using!r} ({exc}). "
                    "Create it once as a superuser, or pass --verify-with rollback."
                ) from None
            self.method = "rollback"

    def analyze(self, tables: Sequence[str]) -> None:
        """Fresh planner statistics, so estimates reflect the data as it is now."""
        qn = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {qn(table)}")

    def rows(self, table: str, at_least: int) -> int | None:
        """The planner's row estimate (pg_class.reltuples); None before any ANALYZE."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                [self.connection.ops.quote_name(table)],
            )
            row = cursor.fetchone()
        return int(row[0]) if row and row[0] >= 0 else None

    def explain(self, query: ExplainQuery) -> PostgresPlan | None:
        try:
            if query.params is None:
                document = self._generic_plan(query.sql)
            else:
                with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (FORMAT JSON) " + query.sql, query.params)
                    document = _document(cursor.fetchone())
        except (DatabaseError, TypeError, ValueError, IndexError) as exc:
            unexplained(query.sql, exc)
            return None
        return parse_postgres_plan(document, literals=self.literals)

    def _generic_plan(self, sql: str) -> Any:
        """The plan any parameters get: PREPARE with $n and plan_cache_mode=force_generic_plan
        (PostgreSQL 16's EXPLAIN (GENERIC_PLAN) does the same in one statement)."""
        name = f"perftoolkit_explain_{next(_statement_names)}"
        arguments = ", ".join(["NULL"] * placeholder_count(sql))
        prepared = False
        try:
            with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                cursor.execute(f"PREPARE {name} AS {numbered_placeholders(sql)}")
                prepared = True
                execute = f"EXECUTE {name}({arguments})" if arguments else f"EXECUTE {name}"
                cursor.execute(f"EXPLAIN (FORMAT JSON) {execute}")
                document = _document(cursor.fetchone())
                transaction.set_rollback(True, using=self.using)
        finally:
            if prepared:  # prepared statements outlive a rollback
                with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
                    cursor.execute(f"DEALLOCATE {name}")
        return document

    def explain_with(
        self, index: IndexSpec, queries: Sequence[ExplainQuery]
    ) -> tuple[str, list[Plan | None]]:
        if self.method == "hypopg":
            qn = self.connection.ops.quote_name
            columns = index_columns(self.connection, index)
            with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT indexrelid, indexname FROM hypopg_create_index(%s)",
                    [f"CREATE INDEX ON {qn(index.table)} ({columns})"],
                )
                oid, name = cursor.fetchone()
            try:
                plans: list[Plan | None] = [self.explain(q) for q in queries]
            finally:
                with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
                    cursor.execute("SELECT hypopg_drop_index(%s)", [oid])
            return str(name), plans
        return plans_with_rolled_back_index(
            self.connection, self.using, index, self.explain, queries
        )

    def judge(self, before: Plan, after: Plan, index: str) -> Judgement:
        assert isinstance(before, PostgresPlan)
        assert isinstance(after, PostgresPlan)
        return judge_postgres(before, after, index, self.min_cost_factor)

    def usage(self, tables: Sequence[str]) -> IndexUsage | None:
        """Scans per index since the statistics were last reset, and when that was."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexrelname, idx_scan FROM pg_stat_user_indexes WHERE relname = ANY(%s)",
                [list(tables)],
            )
            scans = {str(name): int(count) for name, count in cursor.fetchall()}
            cursor.execute(
                "SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()"
            )
            row = cursor.fetchone()
        reset = row[0].isoformat(timespec="seconds") if row and row[0] is not None else None
        return IndexUsage(scans=scans, stats_reset=reset)


def _document(row: Any) -> Any:
    """psycopg decodes the json column already; a str (other drivers) is decoded here."""
    value = row[0]
    return json.loads(value) if isinstance(value, str) else value

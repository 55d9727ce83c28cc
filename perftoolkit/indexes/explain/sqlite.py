"""SQLite: `EXPLAIN QUERY PLAN`, and candidates tried as real indexes in a rolled-back transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import DatabaseError, connections

from perftoolkit.core.indexes.plans import (
    Judgement,
    SqlitePlan,
    judge_sqlite,
    parse_sqlite_plan,
)
from perftoolkit.core.indexes.review import IndexUsage
from perftoolkit.core.indexes.sqlshape import placeholder_count
from perftoolkit.indexes.explain import (
    ExplainQuery,
    IndexSpec,
    Plan,
    plans_with_rolled_back_index,
    unexplained,
)


class SqliteExplainer:
    vendor = "sqlite"
    method = "rollback"

    def __init__(self, using: str) -> None:
        self.using = using
        self.connection = connections[using]

    @contextmanager
    def session(self) -> Iterator[None]:
        yield

    def analyze(self, tables: Sequence[str]) -> None:
        """Nothing: SQLite plans with the statistics the application has (usually none)."""

    def rows(self, table: str, at_least: int) -> int | None:
        """Row count, counted no further than `at_least` (all the caller needs to know)."""
        quoted = self.connection.ops.quote_name(table)
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {quoted} LIMIT %s)", [at_least])
            row = cursor.fetchone()
        return int(row[0]) if row else None

    def explain(self, query: ExplainQuery) -> SqlitePlan | None:
        params = query.params
        if params is None:
            params = [None] * placeholder_count(query.sql)
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("EXPLAIN QUERY PLAN " + query.sql, params)
                return parse_sqlite_plan(cursor.fetchall())
        except (DatabaseError, TypeError, ValueError) as exc:
            unexplained(query.sql, exc)
            return None

    def explain_with(
        self, index: IndexSpec, queries: Sequence[ExplainQuery]
    ) -> tuple[str, list[Plan | None]]:
        return plans_with_rolled_back_index(
            self.connection, self.using, index, self.explain, queries
        )

    def judge(self, before: Plan, after: Plan, index: str) -> Judgement:
        assert isinstance(before, SqlitePlan)
        assert isinstance(after, SqlitePlan)
        return judge_sqlite(before, after, index)

    def usage(self, tables: Sequence[str]) -> IndexUsage | None:
        """None: SQLite keeps no per-index usage counters."""
        return None

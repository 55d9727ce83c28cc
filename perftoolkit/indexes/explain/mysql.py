"""MySQL and MariaDB: `EXPLAIN FORMAT=JSON`, and candidates tried on a scratch copy.

MySQL's DDL commits implicitly: an index created "inside a transaction" is created for real and
cannot be rolled back, and neither server has hypothetical indexes. So a candidate is tried in a
scratch database the advice creates and drops: each table the statements touch is copied there
(`CREATE TABLE … LIKE`, then its rows, up to `SCRATCH_ROWS` of them, and `ANALYZE TABLE`), and
the statements are planned on the copy without and then with the index (`USE` the scratch
database, so Django's unqualified table names resolve to the copies). The project's tables are
never altered. Without the right to create a database the advice says "unverified".
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import DatabaseError, connections

from perftoolkit.core.indexes.mysql_plans import MysqlPlan, judge_mysql, parse_mysql_plan
from perftoolkit.core.indexes.plans import Judgement
from perftoolkit.core.indexes.review import IndexUsage
from perftoolkit.indexes.explain import (
    ExplainQuery,
    IndexSpec,
    Plan,
    Unverifiable,
    index_columns,
    unexplained,
)

# Rows copied per table into the scratch database: enough for the optimizer's estimates to have
# the shape of the real table's; a bigger table is sampled, and the advice says so.
SCRATCH_ROWS = 200_000


class MysqlExplainer:
    vendor = "mysql"
    method = "scratch"

    def __init__(self, using: str, *, min_cost_factor: float = 1.5, literals: bool = False) -> None:
        self.using = using
        self.connection = connections[using]
        self.min_cost_factor = min_cost_factor
        self.literals = literals
        self.tables: list[str] = []
        self.scratch: str | None = None
        self.unavailable: str | None = None
        self.sampled: dict[str, int] = {}

    @property
    def database(self) -> str:
        return str(self.connection.settings_dict["NAME"])

    def _scratch_name(self) -> str:
        return f"{self.database[:40]}_ptscratch_{os.getpid()}"

    @contextmanager
    def session(self) -> Iterator[None]:
        try:
            yield
        finally:
            self._drop_scratch()

    def analyze(self, tables: Sequence[str]) -> None:
        """Fresh statistics for the real tables (ANALYZE TABLE only reads them)."""
        qn = self.connection.ops.quote_name
        self.tables = list(tables)
        with self.connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE TABLE {qn(table)}")
                cursor.fetchall()

    def rows(self, table: str, at_least: int) -> int | None:
        """Row count, counted no further than `at_least`."""
        qn = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM {qn(table)} LIMIT %s) AS t", [at_least]
            )
            row = cursor.fetchone()
        return int(row[0]) if row else None

    def explain(self, query: ExplainQuery) -> MysqlPlan | None:
        if query.params is None:
            # No generic plan in MySQL: NULLs would plan an impossible WHERE.
            unexplained(query.sql, ValueError("no sample parameters recorded for it"))
            return None
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("EXPLAIN FORMAT=JSON " + query.sql, query.params)
                row = cursor.fetchone()
        except (DatabaseError, TypeError, ValueError) as exc:
            unexplained(query.sql, exc)
            return None
        if row is None:
            return None
        value = row[0]
        return parse_mysql_plan(
            json.loads(value) if isinstance(value, str | bytes) else value, literals=self.literals
        )

    def explain_with(
        self, index: IndexSpec, queries: Sequence[ExplainQuery]
    ) -> tuple[str, list[Plan | None]]:
        scratch = self._ensure_scratch()
        qn = self.connection.ops.quote_name
        plans: list[Plan | None] = []
        with self._in(scratch):
            baselines = [self.explain(q) for q in queries]
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE INDEX {qn(index.name)} ON {qn(index.table)} "
                    f"({index_columns(self.connection, index)})"
                )
            try:
                for query, baseline in zip(queries, baselines, strict=True):
                    plan = self.explain(query)
                    if plan is not None:
                        plan = MysqlPlan(**{**_fields(plan), "baseline": baseline})
                    plans.append(plan)
            finally:
                with self.connection.cursor() as cursor:
                    cursor.execute(f"DROP INDEX {qn(index.name)} ON {qn(index.table)}")
        return index.name, plans

    def judge(self, before: Plan, after: Plan, index: str) -> Judgement:
        assert isinstance(before, MysqlPlan)
        assert isinstance(after, MysqlPlan)
        judgement = judge_mysql(before, after, index, self.min_cost_factor)
        table = next((a.table for a in after.accesses if a.key == index), None)
        copied = self.sampled.get(table or "")
        note = " (planned on a scratch copy of the tables"
        note += f", {copied} rows sampled)" if copied else ")"
        return Judgement(
            judgement.used, judgement.verified, judgement.reason + note, judgement.ratio
        )

    def usage(self, tables: Sequence[str]) -> IndexUsage | None:
        """None: per-index use is only counted with MariaDB's userstat or MySQL's performance
        schema, neither of which a project can be assumed to run."""
        return None

    # The scratch database ------------------------------------------------------------------

    def _ensure_scratch(self) -> str:
        if self.unavailable is not None:
            raise Unverifiable(self.unavailable)
        if self.scratch is not None:
            return self.scratch
        name = self._scratch_name()
        qn = self.connection.ops.quote_name
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {qn(name)}")
                cursor.execute(f"CREATE DATABASE {qn(name)}")
                self.scratch = name
                for table in self.tables:
                    cursor.execute(f"CREATE TABLE {qn(name)}.{qn(table)} LIKE {qn(table)}")
                    cursor.execute(
                        f"INSERT INTO {qn(name)}.{qn(table)} SELECT * FROM {qn(table)} LIMIT %s",
                        [SCRATCH_ROWS],
                    )
                    if cursor.rowcount >= SCRATCH_ROWS:
                        self.sampled[table] = SCRATCH_ROWS
                    cursor.execute(f"ANALYZE TABLE {qn(name)}.{qn(table)}")
                    cursor.fetchall()
        except DatabaseError as exc:
            self._drop_scratch()
            self.unavailable = (
                f"MySQL DDL cannot be rolled back, and a scratch copy of the tables could not be "
                f"made to try it on ({exc}); grant CREATE and DROP on databases named "
                f"{self.database[:40]}_ptscratch_* to verify"
            )
            raise Unverifiable(self.unavailable) from None
        return name

    @contextmanager
    def _in(self, database: str) -> Iterator[None]:
        qn = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            cursor.execute(f"USE {qn(database)}")
        try:
            yield
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute(f"USE {qn(self.database)}")

    def _drop_scratch(self) -> None:
        if self.scratch is None:
            return
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"DROP DATABASE IF EXISTS {self.connection.ops.quote_name(self.scratch)}"
            )
        self.scratch = None


def _fields(plan: MysqlPlan) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in MysqlPlan.__dataclass_fields__}

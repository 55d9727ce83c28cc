"""EXPLAIN per database vendor, and trying an index without keeping it.

`explainer_for(alias, …)` returns the vendor's `Explainer`: it explains a statement with its
sample parameters (or, without them, the plan any parameters would get) and explains statements
again as if an index existed — SQLite: a real index in a transaction that is rolled back;
PostgreSQL: a hypothetical index (hypopg), or a real one rolled back. Plans come back parsed by
`core.plans`; nothing an explainer does outlives its `session()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connections, transaction

from perftoolkit.core.indexes.advice import column_name
from perftoolkit.core.indexes.mysql_plans import MysqlPlan
from perftoolkit.core.indexes.plans import Judgement, PostgresPlan, SqlitePlan
from perftoolkit.core.indexes.review import IndexUsage
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.indexes.options import VERIFY_METHODS

Plan = SqlitePlan | PostgresPlan | MysqlPlan

logger = logging.getLogger("perftoolkit.indexes.explain")


def unexplained(sql: str, exc: Exception) -> None:
    """An EXPLAIN the database refused: the statement goes unverified (its advice says so); the
    log says why."""
    reason = " ".join(str(exc).split("\n", 1)[0].split())[:200]  # the database's first line
    logger.warning(
        "perftoolkit: EXPLAIN failed (%s: %s) for %s; index advice for this statement is left "
        "unverified (a statement explained without its sample's values can fail this way: "
        "PostgreSQL's generic plan cannot type every parameter)",
        type(exc).__name__,
        reason,
        " ".join(sql.split())[:200],
    )


class Unverifiable(Exception):
    """A candidate that cannot be tried on this database; the message says why (the advice is
    then "proposed", with "unverified: …" as its reason)."""


@dataclass(frozen=True, slots=True)
class ExplainQuery:
    fingerprint: str
    sql: str  # with Django's %s placeholders
    params: Sequence[Any] | dict[str, Any] | None  # None: no sample, explain a generic plan


@dataclass(frozen=True, slots=True)
class IndexSpec:
    table: str
    columns: tuple[str, ...]  # "-col" descending
    name: str


class Explainer(Protocol):
    vendor: str
    method: str  # how candidates are tried: "rollback" or "hypopg"

    def session(self) -> AbstractContextManager[None]: ...

    def analyze(self, tables: Sequence[str]) -> None: ...

    def rows(self, table: str, at_least: int) -> int | None: ...

    def explain(self, query: ExplainQuery) -> Plan | None: ...

    def explain_with(
        self, index: IndexSpec, queries: Sequence[ExplainQuery]
    ) -> tuple[str, list[Plan | None]]: ...

    def judge(self, before: Plan, after: Plan, index: str) -> Judgement: ...

    def usage(self, tables: Sequence[str]) -> IndexUsage | None: ...


def explainer_for(
    using: str = "default",
    *,
    verify_with: str | None = None,
    min_cost_factor: float = 1.5,
    literals: bool = False,
) -> Explainer:
    """The explainer for database alias `using`; `verify_with` None picks the best available."""
    if using not in connections:
        raise ConfigurationError(
            f"There is no database alias {using!r} in DATABASES "
            f"(known: {', '.join(connections)}). Pass --database with one of them."
        )
    if verify_with is not None and verify_with not in VERIFY_METHODS:
        raise ConfigurationError(
            f"--verify-with must be one of {', '.join(VERIFY_METHODS)}, not {verify_with!r}."
        )
    vendor = connections[using].vendor
    if vendor == "sqlite":
        from perftoolkit.indexes.explain.sqlite import SqliteExplainer

        if verify_with == "hypopg":
            raise ConfigurationError(
                f"--verify-with hypopg needs PostgreSQL; database {using!r} is SQLite, where "
                "candidates are tried as real indexes in a transaction that is rolled back. "
                "Drop the option or pass --verify-with rollback."
            )
        return SqliteExplainer(using)
    if vendor == "postgresql":
        from perftoolkit.indexes.explain.postgresql import PostgresExplainer

        return PostgresExplainer(
            using, verify_with=verify_with, min_cost_factor=min_cost_factor, literals=literals
        )
    if vendor == "mysql":
        from perftoolkit.indexes.explain.mysql import MysqlExplainer

        if verify_with is not None:
            raise ConfigurationError(
                f"--verify-with {verify_with} is not for MySQL or MariaDB (database {using!r}): "
                "their DDL cannot be rolled back, so candidates are tried on a scratch copy of "
                "the tables. Drop the option."
            )
        return MysqlExplainer(using, min_cost_factor=min_cost_factor, literals=literals)
    raise ConfigurationError(
        f"Index advice verifies candidates on SQLite, PostgreSQL, MySQL and MariaDB; database "
        f"{using!r} is {vendor}. Point --database at a copy of the schema on one of them."
    )


def index_columns(connection: Any, index: IndexSpec) -> str:
    """The column list of CREATE INDEX, quoted, a descending column written `"x" DESC`."""
    qn = connection.ops.quote_name
    return ", ".join(
        qn(column_name(c)) + (" DESC" if c.startswith("-") else "") for c in index.columns
    )


def plans_with_rolled_back_index(
    connection: Any,
    using: str,
    index: IndexSpec,
    explain: Callable[[ExplainQuery], Any],
    queries: Sequence[ExplainQuery],
) -> tuple[str, list[Plan | None]]:
    """Create the index for real inside a transaction that is always rolled back, and plan the
    statements while it exists: the database never keeps it."""
    qn = connection.ops.quote_name
    plans: list[Plan | None] = []
    with transaction.atomic(using=using):
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE INDEX {qn(index.name)} ON {qn(index.table)} ({index_columns(connection, index)})"
                )
            plans = [explain(q) for q in queries]
        finally:
            transaction.set_rollback(True, using=using)
    return index.name, plans

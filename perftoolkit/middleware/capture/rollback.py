"""Requests run in-process in transactions that are rolled back (the scaffold's probes, perf_fix's
replays), with each statement as it would run in autocommit.

A request served in production runs in autocommit: a statement that fails (a cast a template
filter catches and shrugs off) fails alone. Inside a transaction, PostgreSQL refuses every later
statement until a rollback ("current transaction is aborted"), so a page that works would answer
500. On PostgreSQL each statement therefore runs in a savepoint of its own, set and released on
the driver's own cursor: no execute wrapper (nor perftoolkit's capture) sees those statements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from django.db import connections, transaction

_SAVEPOINT = "perftoolkit_statement"


@contextmanager
def rolled_back(aliases: Iterable[str]) -> Iterator[None]:
    """Run the block in a transaction on each alias, rolled back at its end."""
    aliases = sorted(set(aliases))
    with ExitStack() as stack:
        for alias in aliases:
            stack.enter_context(transaction.atomic(using=alias))
            connection = connections[alias]
            if connection.vendor == "postgresql":
                stack.enter_context(connection.execute_wrapper(_own_savepoint))
        try:
            yield
        finally:
            for alias in aliases:
                transaction.set_rollback(True, using=alias)


def _own_savepoint(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    raw = context["connection"].connection
    if raw is None:  # not connected yet: Django connects on the statement itself
        return execute(sql, params, many, context)
    with raw.cursor() as cursor:
        cursor.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        result = execute(sql, params, many, context)
    except Exception:
        with raw.cursor() as cursor:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        raise
    with raw.cursor() as cursor:
        cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    return result

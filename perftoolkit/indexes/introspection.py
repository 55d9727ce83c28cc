"""Django models and the database's indexes → plain `TableSchema` data for `core.indexes`.

Columns map to model field names (so a migration can say `fields=["user"]` for `user_id`), and
each index says where it came from: the primary key, a unique constraint, `Meta.indexes`, the
index Django adds to every foreign key, a field's `db_index`, or the database alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import ForeignKey, Model

from perftoolkit.conf import project_root
from perftoolkit.core.indexes.advice import ExistingIndex, TableSchema


def models_by_table() -> dict[str, type[Model]]:
    """Every installed model (auto-created many-to-many tables included) by its db_table."""
    found: dict[str, type[Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            found.setdefault(model._meta.db_table, model)
    return found


def table_schemas(tables: Iterable[str], *, using: str = "default") -> dict[str, TableSchema]:
    """Schemas of those `tables` that exist in database `using` (others are left out)."""
    connection = connections[using]
    models = models_by_table()
    wanted = set(tables)
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor)) & wanted
        schemas = {}
        for table in sorted(existing):
            model = models.get(table)
            columns = {
                info.name: info.name
                for info in connection.introspection.get_table_description(cursor, table)
            }
            if model is not None:
                columns.update(
                    {f.column: f.name for f in model._meta.concrete_fields if f.column in columns}
                )
            constraints = _named(
                connection, table, connection.introspection.get_constraints(cursor, table)
            )
            special = _special_indexes(connection, table)
            indexes = tuple(
                _existing_index(table, name, info, model, name in special)
                for name, info in sorted(constraints.items())
                if info.get("index") or info.get("primary_key") or info.get("unique")
            )
            schemas[table] = TableSchema(
                table=table,
                model=model._meta.label if model is not None else None,
                fields=columns,
                indexes=indexes,
                own=model is not None and _own(model),
            )
    return schemas


def _existing_index(
    table: str, name: str, info: Mapping[str, Any], model: type[Model] | None, special: bool
) -> ExistingIndex:
    raw_columns = info.get("columns") or []
    assert isinstance(raw_columns, list)
    orders = info.get("orders") or []
    assert isinstance(orders, list)
    columns = tuple(
        ("-" if n < len(orders) and orders[n] == "DESC" else "") + str(c)
        for n, c in enumerate(raw_columns)
    )
    expression = not raw_columns or any(c is None for c in raw_columns)
    origin, field = _origin(name, info, model, raw_columns)
    return ExistingIndex(
        table=table,
        name=name,
        columns=columns,
        unique=bool(info.get("unique")),
        primary=bool(info.get("primary_key")),
        special=special or expression,
        origin=origin,
        field=field,
    )


def _origin(
    name: str, info: Mapping[str, Any], model: type[Model] | None, columns: list[Any]
) -> tuple[str, str | None]:
    if info.get("primary_key"):
        return "primary key", None
    if model is not None:
        if name in {index.name for index in model._meta.indexes}:
            return "Meta.indexes", None
        if len(columns) == 1 and not info.get("unique"):
            for f in model._meta.concrete_fields:
                if f.column == columns[0] and getattr(f, "db_index", False):
                    return ("foreign key" if isinstance(f, ForeignKey) else "db_index"), f.name
    if info.get("unique"):
        return "unique", None
    return "database", None


def _own(model: type[Model]) -> bool:
    """The project's own model: its app lives under the project root, outside installed
    packages, and it is not an auto-created many-to-many table (whose indexes Django fixes)."""
    if model._meta.auto_created:
        return False
    path = Path(apps.get_app_config(model._meta.app_label).path).resolve()
    root = project_root()
    return path.is_relative_to(root) and not {"site-packages", "dist-packages"} & set(path.parts)


def _named(
    connection: BaseDatabaseWrapper, table: str, constraints: dict[str, Any]
) -> dict[str, Any]:
    """SQLite's inline UNIQUE constraints come back as `__unnamed_constraint_N__`: give them the
    name SQLite's plans show (`sqlite_autoindex_<table>_N`), matched by their columns."""
    if connection.vendor != "sqlite" or not any(n.startswith("__unnamed") for n in constraints):
        return constraints
    by_columns: dict[tuple[str, ...], str] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA index_list({connection.ops.quote_name(table)})")
        for row in cursor.fetchall():
            name = str(row[1])
            if name.startswith("sqlite_autoindex_"):
                cursor.execute(f"PRAGMA index_info({connection.ops.quote_name(name)})")
                by_columns[tuple(str(r[2]) for r in cursor.fetchall())] = name
    renamed = {}
    for name, info in constraints.items():
        if name.startswith("__unnamed") and info.get("unique"):
            name = by_columns.get(tuple(info.get("columns") or ()), name)
        renamed[name] = info
    return renamed


def _special_indexes(connection: BaseDatabaseWrapper, table: str) -> set[str]:
    """Indexes that serve only what their definition says: partial (WHERE), on expressions,
    with a non-default operator class (Django's `_like` indexes), on a column prefix (MySQL) or
    not a B-tree."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am am ON am.oid = c.relam "
                "WHERE i.indrelid = %s::regclass AND (i.indpred IS NOT NULL "
                "OR i.indexprs IS NOT NULL OR am.amname <> 'btree' OR EXISTS ("
                "SELECT 1 FROM pg_opclass o WHERE o.oid = ANY(i.indclass) AND NOT o.opcdefault))",
                [connection.ops.quote_name(table)],
            )
            return {row[0] for row in cursor.fetchall()}
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL",
                [table],
            )
            return {row[0] for row in cursor.fetchall() if " WHERE " in row[1].upper()}
        if connection.vendor == "mysql":
            # FULLTEXT, SPATIAL and HASH indexes, and B-trees on a column's prefix (`name(10)`),
            # serve no equality or sort on the whole column.
            cursor.execute(
                "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s "
                "AND (INDEX_TYPE <> 'BTREE' OR SUB_PART IS NOT NULL)",
                [table],
            )
            return {str(row[0]) for row in cursor.fetchall()}
    return set()

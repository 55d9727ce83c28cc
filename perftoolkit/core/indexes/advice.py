"""Index advice over plain data: the schema facts the rules read (`TableSchema`,
`ExistingIndex`), the leftmost-prefix rule (`serves`), Django's naming, and the order advice is
listed in. The advice itself (`IndexAdvice`) is carried by a run beside its findings, in
`core.findings`; the rules that turn statements into candidates are in `candidates.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from perftoolkit.core.findings import IndexAdvice


@dataclass(frozen=True, slots=True)
class ExistingIndex:
    """An index the database has, as introspection reports it."""

    table: str
    name: str
    columns: tuple[str, ...]  # "-col" when descending
    unique: bool = False
    primary: bool = False
    # Partial, on expressions, with a non-default operator class or not a B-tree: it serves what
    # its definition says, so it is neither counted on for plain lookups nor called redundant.
    special: bool = False
    origin: str = (
        "database"  # primary key | foreign key | unique | Meta.indexes | db_index | database
    )
    field: str | None = None  # the model field behind a foreign-key or db_index index

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "name": self.name,
            "columns": list(self.columns),
            "unique": self.unique,
            "primary": self.primary,
            "special": self.special,
            "origin": self.origin,
            "field": self.field,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExistingIndex:
        return cls(
            table=str(data["table"]),
            name=str(data["name"]),
            columns=tuple(str(c) for c in data.get("columns", [])),
            unique=bool(data.get("unique", False)),
            primary=bool(data.get("primary", False)),
            special=bool(data.get("special", False)),
            origin=str(data.get("origin", "database")),
            field=data.get("field"),
        )


@dataclass(frozen=True, slots=True)
class TableSchema:
    """One table: the model behind it, its columns' field names and its indexes."""

    table: str
    model: str | None = None  # app_label.ModelName
    fields: dict[str, str] = field(default_factory=dict)  # column → field name
    indexes: tuple[ExistingIndex, ...] = ()
    rows: int | None = None  # estimated rows; None when unknown
    own: bool = True  # the project's own model: its indexes are the project's to change

    @property
    def primary_key(self) -> tuple[str, ...]:
        return next((i.columns for i in self.indexes if i.primary), ())

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "model": self.model,
            "fields": dict(self.fields),
            "indexes": [i.to_dict() for i in self.indexes],
            "rows": self.rows,
            "own": self.own,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableSchema:
        return cls(
            table=str(data["table"]),
            model=data.get("model"),
            fields={str(k): str(v) for k, v in (data.get("fields") or {}).items()},
            indexes=tuple(ExistingIndex.from_dict(i) for i in data.get("indexes", [])),
            rows=data.get("rows"),
            own=bool(data.get("own", True)),
        )


def column_name(column: str) -> str:
    return column.lstrip("-")


def _directions_agree(index: Sequence[str], wanted: Sequence[str]) -> bool:
    """A B-tree read forwards or backwards: all directions equal, or all reversed."""
    if len(wanted) <= 1:
        return True
    same = [a.startswith("-") == b.startswith("-") for a, b in zip(index, wanted, strict=False)]
    return all(same) or not any(same)


def serves(index: Sequence[str], wanted: Sequence[str], equality: int) -> bool:
    """True when an index on `index` serves every lookup an index on `wanted` would.

    The leftmost-prefix rule, with the `equality` leading columns of `wanted` taken as a set.
    """
    if len(index) < len(wanted):
        return False
    names = [column_name(c) for c in index]
    if set(names[:equality]) != {column_name(c) for c in wanted[:equality]}:
        return False
    tail = wanted[equality:]
    if names[equality : len(wanted)] != [column_name(c) for c in tail]:
        return False
    return _directions_agree(index[equality : len(wanted)], tail)


def index_name(table: str, columns: Sequence[str], suffix: str = "idx") -> str:
    """The name Django's `Index.set_name_with_model` gives these columns (≤ 30 characters)."""
    table_name = table.split('"."')[-1].strip('"')
    digest = hashlib.md5(usedforsecurity=False)
    for part in (table_name, *columns, suffix):
        digest.update(part.encode())
    name = f"{table_name[:11]}_{column_name(columns[0])[:7]}_{digest.hexdigest()[:6]}_{suffix}"
    if name[0] == "_" or name[0].isdigit():
        name = "D" + name[1:]
    return name


def index_fields(schema: TableSchema, columns: Sequence[str]) -> list[str]:
    """Model field names for `Index(fields=…)`: `user_id` → `user`, `-last_login` kept signed."""
    fields = []
    for c in columns:
        name = schema.fields.get(column_name(c), column_name(c))
        fields.append(("-" if c.startswith("-") else "") + name)
    return fields


def add_index_operation(schema: TableSchema, columns: Sequence[str], name: str) -> str:
    """The migration operation that creates the index, as Python source."""
    if schema.model is None:
        return ""
    model_name = schema.model.rpartition(".")[2].lower()
    fields = ", ".join(f'"{f}"' for f in index_fields(schema, columns))
    return (
        f'migrations.AddIndex(model_name="{model_name}", '
        f'index=models.Index(fields=[{fields}], name="{name}"))'
    )


def describe(columns: Sequence[str]) -> str:
    """`(user_id, -last_login)` as people read it: `user_id, last_login DESC`."""
    return ", ".join(column_name(c) + (" DESC" if c.startswith("-") else "") for c in columns)


_LISTED_ORDER = ("verified", "rejected", "proposed", "exists", "redundant", "duplicate", "unused")


def sort_advice(advice: Iterable[IndexAdvice]) -> list[IndexAdvice]:
    """Verified first, then rejected, proposed, exists and the review of existing indexes."""
    rank = {status: n for n, status in enumerate(_LISTED_ORDER)}
    return sorted(advice, key=lambda a: (rank.get(a.status, 99), a.table, a.columns, a.name))

"""Review of the indexes a database already has: duplicate, redundant and (PostgreSQL) unused.

Pure rules over `TableSchema` data. Primary keys, unique indexes (they enforce a constraint) and
special indexes (partial, on expressions, with another operator class: they serve what their
definition says) are never called redundant or unused; a duplicate keeps the one that enforces the most.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from perftoolkit.core.findings import IndexAdvice, IndexStatus
from perftoolkit.core.indexes.advice import (
    ExistingIndex,
    TableSchema,
    column_name,
    describe,
    serves,
)


@dataclass(frozen=True, slots=True)
class IndexUsage:
    """`pg_stat_user_indexes.idx_scan` per index name, and when those counters started."""

    scans: dict[str, int] = field(default_factory=dict)
    stats_reset: str | None = None  # ISO time of the last reset; None: never reset

    def to_dict(self) -> dict[str, Any]:
        return {"scans": dict(self.scans), "stats_reset": self.stats_reset}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexUsage:
        return cls(
            scans={str(k): int(v) for k, v in (data.get("scans") or {}).items()},
            stats_reset=data.get("stats_reset"),
        )


def _shape(index: ExistingIndex) -> tuple[tuple[str, bool], ...]:
    """Columns with directions, normalised so a fully reversed index reads the same."""
    flip = index.columns[0].startswith("-") if index.columns else False
    return tuple((column_name(c), c.startswith("-") != flip) for c in index.columns)


def _strength(index: ExistingIndex) -> tuple[bool, bool, bool, str]:
    return (not index.primary, not index.unique, index.origin != "Meta.indexes", index.name)


def _removal(schema: TableSchema, index: ExistingIndex) -> tuple[str, str]:
    """(how to remove it in words, the migration operation when there is one)."""
    model_name = schema.model.rpartition(".")[2].lower() if schema.model else None
    if index.origin == "Meta.indexes" and model_name:
        operation = f'migrations.RemoveIndex(model_name="{model_name}", name="{index.name}")'
        return f"remove it from {schema.model}'s Meta.indexes", operation
    if index.origin in ("foreign key", "db_index") and index.field and schema.model:
        return f"set db_index=False on {schema.model}.{index.field}", ""
    return f"drop index {index.name}", ""


def _advice(
    schema: TableSchema, index: ExistingIndex, status: IndexStatus, reason: str, migration: str
) -> IndexAdvice:
    return IndexAdvice(
        table=schema.table,
        columns=index.columns,
        status=status,
        model=schema.model,
        reason=reason,
        migration=migration,
        name=index.name,
    )


def review_indexes(
    schema: Mapping[str, TableSchema],
    tables: Iterable[str],
    usage: IndexUsage | None = None,
    min_rows: int = 0,
) -> list[IndexAdvice]:
    """Duplicate, redundant and unused indexes on the project's own `tables`; one status per
    index at most. A table of fewer than `min_rows` rows has no unused index: the planner reads
    a small table whole, whatever indexes it has, so no scan of one says nothing."""
    found: list[IndexAdvice] = []
    for table in sorted(set(tables)):
        info = schema.get(table)
        if info is None or not info.own:
            continue  # Django's or a package's tables: their indexes are not the project's to drop
        plain = [i for i in info.indexes if not i.special and i.columns]
        flagged: set[str] = set()
        by_shape: dict[tuple[tuple[str, bool], ...], list[ExistingIndex]] = {}
        for index in plain:
            by_shape.setdefault(_shape(index), []).append(index)
        for group in by_shape.values():
            keep, *others = sorted(group, key=_strength)
            for index in others:
                how, operation = _removal(info, index)
                reason = (
                    f"{index.name} ({describe(index.columns)}) has the same columns as "
                    f"{keep.name} ({keep.origin}); every lookup uses one of them and writes pay "
                    f"for both: {how}."
                )
                found.append(_advice(info, index, "duplicate", reason, operation))
                flagged.add(index.name)
        for index in plain:
            if index.name in flagged or index.primary or index.unique:
                continue
            wider = [
                other
                for other in plain
                if other.name not in flagged
                and len(other.columns) > len(index.columns)
                and serves(other.columns, index.columns, 0)
            ]
            if wider:
                other = sorted(wider, key=_strength)[0]
                how, operation = _removal(info, index)
                reason = (
                    f"{index.name} ({describe(index.columns)}) is the leading part of "
                    f"{other.name} ({describe(other.columns)}), which serves every lookup and "
                    f"ordering it does: {how}."
                )
                found.append(_advice(info, index, "redundant", reason, operation))
                flagged.add(index.name)
        if usage is None or (info.rows is not None and info.rows < min_rows):
            continue
        since = (
            f"since the statistics were last reset ({usage.stats_reset})"
            if usage.stats_reset
            else "since statistics collection began (never reset)"
        )
        for index in plain:
            if index.name in flagged or index.primary or index.unique:
                continue
            if usage.scans.get(index.name) == 0:
                how, operation = _removal(info, index)
                reason = (
                    f"pg_stat_user_indexes counts 0 scans of {index.name} {since}. Counters "
                    "cover this server only (not replicas) and restart at a stats reset, so "
                    "make sure they span your real workload, including rare jobs, before you "
                    f"{how}."
                )
                found.append(_advice(info, index, "unused", reason, operation))
    return found

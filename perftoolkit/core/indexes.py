"""Index advice over plain data: which indexes the workload's queries want, and the advice type.

The rules (`propose`): per query block and table, the columns compared with `=` / `IS NULL` / `IN`
come first (their order is free: any order serves the lookup), then either the ORDER BY columns
with their direction (when every sort column is on that table and no `IN` breaks the order) or
one range column; join columns other than a primary key are candidates of their own. Candidates
an existing index already serves (leftmost-prefix rule, Django's foreign-key indexes included)
are not proposed; those served by a primary key are dropped silently, as are join keys, since
every Django foreign key has its index. A candidate that a longer one serves is merged into it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from perftoolkit.core.sqlshape import EQ, IN, IS_NULL, NOT_NULL, RANGE, QueryBlock, StatementShape

INDEX_STATUSES = ("proposed", "verified", "rejected", "exists", "redundant", "duplicate", "unused")
MAX_NAME_LENGTH = 30  # Django's limit for index names (Oracle's, kept by every backend)


@dataclass(frozen=True, slots=True)
class IndexAdvice:
    table: str
    columns: tuple[str, ...]  # index order; a descending column is written "-last_login"
    status: str
    model: str | None = None
    reason: str = ""
    plan_before: str = ""
    plan_after: str = ""
    est_cost_before: float | None = None
    est_cost_after: float | None = None
    migration: str = ""
    queries: tuple[str, ...] = ()  # fingerprints helped
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "columns": list(self.columns),
            "model": self.model,
            "status": self.status,
            "reason": self.reason,
            "plan_before": self.plan_before,
            "plan_after": self.plan_after,
            "est_cost_before": self.est_cost_before,
            "est_cost_after": self.est_cost_after,
            "migration": self.migration,
            "queries": list(self.queries),
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexAdvice:
        return cls(
            table=str(data["table"]),
            columns=tuple(str(c) for c in data.get("columns", [])),
            status=str(data["status"]),
            model=data.get("model"),
            reason=str(data.get("reason", "")),
            plan_before=str(data.get("plan_before", "")),
            plan_after=str(data.get("plan_after", "")),
            est_cost_before=data.get("est_cost_before"),
            est_cost_after=data.get("est_cost_after"),
            migration=str(data.get("migration", "")),
            queries=tuple(str(q) for q in data.get("queries", [])),
            name=str(data.get("name", "")),
        )


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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableSchema:
        return cls(
            table=str(data["table"]),
            model=data.get("model"),
            fields={str(k): str(v) for k, v in (data.get("fields") or {}).items()},
            indexes=tuple(ExistingIndex.from_dict(i) for i in data.get("indexes", [])),
            rows=data.get("rows"),
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """An index some queries want: `equality` leading columns are compared with =, in any order."""

    table: str
    columns: tuple[str, ...]
    equality: int
    queries: tuple[str, ...] = ()
    join: bool = False  # only a join key asked for it

    @property
    def key(self) -> tuple[str, frozenset[str], tuple[str, ...]]:
        return (self.table, frozenset(self.columns[: self.equality]), self.columns[self.equality :])


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the workload asks for: new candidates, and those an existing index already serves."""

    candidates: tuple[Candidate, ...]
    served: tuple[tuple[Candidate, ExistingIndex], ...]
    small: tuple[str, ...] = ()  # tables skipped for having fewer rows than asked


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


def _block_candidates(
    block: QueryBlock, table: str, schema: TableSchema
) -> list[tuple[tuple[str, ...], int, bool]]:
    """(columns, equality, join) for one table of one block."""
    pk = set(schema.primary_key)
    equal = list(block.columns(table, EQ, IS_NULL))
    listed = [c for c in block.columns(table, IN) if c not in equal]
    ranges = [c for c in block.columns(table, RANGE, NOT_NULL) if c not in equal + listed]
    lead = equal + listed
    sort: list[str] = []
    if block.order_complete and block.order_by:
        if all(k.column.table == table for k in block.order_by) and not listed:
            sort = [("-" if k.descending else "") + k.column.name for k in block.order_by]
            sort = [c for c in sort if column_name(c) not in equal]
            # Django's tie-breaker on the primary key: the rows an equality leaves are few, and
            # SQLite ends every index with the rowid anyway.
            while sort and column_name(sort[-1]) in pk and (lead or len(sort) > 1):
                sort.pop()
    elif (
        not block.order_by
        and block.group_by
        and not listed
        and lead
        and all(c.table == table for c in block.group_by)
    ):
        # An index that returns the groups in order spares the sort before the aggregate.
        sort = [c.name for c in block.group_by if c.name not in equal]
    found: list[tuple[tuple[str, ...], int, bool]] = []
    if sort:
        found.append(((*lead, *sort), len(lead), False))
    if ranges and (not sort or column_name(sort[0]) != ranges[0]):
        found.append(((*lead, ranges[0]), len(lead), False))
    if not found and lead:
        found.append((tuple(lead), len(lead), False))
    for key in block.joins:
        for side in (key.left, key.right):
            if side.table == table and side.name not in pk:
                found.append(((side.name,), 1, True))
    known = set(schema.fields)
    return [f for f in found if f[0] and all(column_name(c) in known for c in f[0])]


def propose(
    statements: Iterable[tuple[str, StatementShape]],
    schema: Mapping[str, TableSchema],
    *,
    min_rows: int = 0,
) -> Proposal:
    """Candidates from every statement (fingerprint, shape) over the tables in `schema`."""
    raw: list[Candidate] = []
    small: set[str] = set()
    for fingerprint, shape in statements:
        for block in shape.blocks:
            for table in dict.fromkeys(t for _, t in block.tables):
                info = schema.get(table)
                if info is None:
                    continue
                if info.rows is not None and info.rows < min_rows:
                    small.add(table)
                    continue
                for columns, equality, join in _block_candidates(block, table, info):
                    raw.append(Candidate(table, columns, equality, (fingerprint,), join))
    fresh: list[Candidate] = []
    served: dict[tuple[Any, ...], tuple[Candidate, ExistingIndex]] = {}
    for candidate in _dedupe(raw):
        index = serving_index(candidate, schema[candidate.table].indexes)
        if index is None:
            fresh.append(candidate)
        elif not index.primary and not candidate.join:
            key = (candidate.key, index.name)
            if key in served:
                old, _ = served[key]
                candidate = _with_queries(old, candidate.queries)
            served[key] = (candidate, index)
    return Proposal(
        candidates=tuple(merge_candidates(fresh)),
        served=tuple(served.values()),
        small=tuple(sorted(small)),
    )


def serving_index(candidate: Candidate, indexes: Iterable[ExistingIndex]) -> ExistingIndex | None:
    """The first usable index (primary key first, then unique) that serves the candidate."""
    usable = [i for i in indexes if not i.special]
    usable.sort(key=lambda i: (not i.primary, not i.unique, len(i.columns), i.name))
    for index in usable:
        if serves(index.columns, candidate.columns, candidate.equality):
            return index
    return None


def _with_queries(candidate: Candidate, queries: Iterable[str]) -> Candidate:
    merged = tuple(dict.fromkeys((*candidate.queries, *queries)))
    return replace(candidate, queries=merged)


def _dedupe(candidates: Iterable[Candidate]) -> list[Candidate]:
    by_key: dict[tuple[str, frozenset[str], tuple[str, ...]], Candidate] = {}
    for c in candidates:
        old = by_key.get(c.key)
        if old is None:
            by_key[c.key] = c
        else:
            by_key[c.key] = replace(_with_queries(old, c.queries), join=old.join and c.join)
    return list(by_key.values())


def merge_candidates(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Fold each candidate into a longer one that serves it; the order of first appearance kept."""
    items = _dedupe(candidates)
    order = {c.key: n for n, c in enumerate(items)}
    kept: list[Candidate] = []
    for c in sorted(items, key=lambda c: (-len(c.columns), order[c.key])):
        for n, bigger in enumerate(kept):
            if bigger.table == c.table and serves(bigger.columns, c.columns, c.equality):
                kept[n] = replace(_with_queries(bigger, c.queries), join=bigger.join and c.join)
                break
        else:
            kept.append(c)
    return sorted(kept, key=lambda c: order[c.key])


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

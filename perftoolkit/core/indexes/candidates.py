"""Candidate indexes from a workload's statements (pure rules over plain data).

Per query block and table: the columns compared with `=` / `IS NULL` / `IN` come first (their
order is free: any order serves the lookup), then either the ORDER BY columns with their
direction (when every sort column is on that table and no `IN` breaks the order) or one range
column; join columns other than a primary key are candidates of their own. Candidates an existing
index already serves (leftmost-prefix rule, Django's foreign-key indexes included) are not
proposed; those served by a primary key are dropped silently, as are join keys, since every
Django foreign key has its index. A candidate that a longer one serves is merged into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from perftoolkit.core.indexes.advice import ExistingIndex, TableSchema, column_name, serves
from perftoolkit.core.indexes.sqlshape import (
    EQ,
    IN,
    IS_NULL,
    NOT_NULL,
    RANGE,
    QueryBlock,
    StatementShape,
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
    weights: dict[tuple[str, str], int] = {}
    for c in _dedupe(raw):
        for column in c.columns[: c.equality]:
            weights[(c.table, column)] = weights.get((c.table, column), 0) + len(c.queries)
    fresh: list[Candidate] = []
    served: dict[tuple[str, str], tuple[Candidate, ExistingIndex]] = {}
    for candidate in _dedupe(raw):
        index = serving_index(candidate, schema[candidate.table].indexes)
        if index is None:
            fresh.append(candidate)
        elif not index.primary and not candidate.join:
            # One entry per serving index: the longest lookup it serves, every statement's id.
            key = (candidate.table, index.name)
            if key in served:
                old, _ = served[key]
                # The longest, written as the index is (direction included) on a tie.
                longer, shorter = sorted(
                    (old, candidate),
                    key=lambda c: (len(c.columns), c.columns == index.columns[: len(c.columns)]),
                    reverse=True,
                )
                candidate = _with_queries(longer, shorter.queries)
            served[key] = (candidate, index)
    return Proposal(
        candidates=tuple(merge_candidates(fresh, weights)),
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


def merge_candidates(
    candidates: Iterable[Candidate], weights: Mapping[tuple[str, str], int] | None = None
) -> list[Candidate]:
    """Fold each candidate into a longer one that serves it, or can once its equality columns
    are reordered (they are free): `(user_id, status)` folds into `{user_id, course_id, status}`
    written `(user_id, status, course_id)`, one index for both. Equality columns are then ordered
    by `weights` (how many statements compare (table, column) with =), most used first."""
    items = _dedupe(candidates)
    order = {c.key: n for n, c in enumerate(items)}
    kept: list[Candidate] = []
    chains: list[list[tuple[str, ...]]] = []  # per kept candidate: column sets that must lead it
    # Longest first; of two as long, one that names a direction (an ORDER BY's `-created_at`)
    # first: it serves the other too, and which came first is the statements' order, which the
    # measured times decide.
    for c in sorted(items, key=lambda c: (-len(c.columns), not _directed(c), order[c.key])):
        for n, bigger in enumerate(kept):
            if bigger.table != c.table:
                continue
            if serves(bigger.columns, c.columns, c.equality):
                chains[n].extend(_prefix_sets(c, bigger.equality))
            elif not _fits_reordered(c, bigger, chains[n]):
                continue
            else:
                chains[n].append(c.columns)
            kept[n] = replace(_with_queries(bigger, c.queries), join=bigger.join and c.join)
            break
        else:
            kept.append(c)
            chains.append([])
    ordered = [_layered(c, chain, weights or {}) for c, chain in zip(kept, chains, strict=True)]
    return sorted(ordered, key=lambda c: order[c.key])


def _directed(c: Candidate) -> bool:
    return any(x.startswith("-") for x in c.columns)


def _prefix_sets(c: Candidate, within: int) -> list[tuple[str, ...]]:
    """The leading columns `c` needs, as far as they fall among `within` equality columns."""
    names = tuple(column_name(x) for x in c.columns)
    return [names[:k] for k in range(c.equality, len(names) + 1) if 0 < k <= within]


def _fits_reordered(c: Candidate, bigger: Candidate, chain: list[tuple[str, ...]]) -> bool:
    """True when `c` (equality only) can lead `bigger` by reordering its equality columns,
    without breaking what earlier merges need (the sets stay nested)."""
    if c.equality != len(c.columns):
        return False
    need = frozenset(c.columns)
    if not need < frozenset(bigger.columns[: bigger.equality]):
        return False
    return all(set(p) <= need or need <= set(p) for p in chain)


def _layered(
    c: Candidate, chain: list[tuple[str, ...]], weights: Mapping[tuple[str, str], int]
) -> Candidate:
    """Equality columns in nested layers (each chain entry leads), most used first in each."""
    head = list(c.columns[: c.equality])
    placed: list[str] = []
    for layer in [*sorted(chain, key=len), tuple(head)]:
        fresh = [x for x in layer if x not in placed]
        placed += sorted(fresh, key=lambda x: (-weights.get((c.table, x), 0), fresh.index(x)))
    return replace(c, columns=(*placed, *c.columns[c.equality :]))

"""What an index could serve in a statement: its tables, predicates, sort and join keys.

`parse_statement(sql, vendor)` reads a SELECT, UPDATE or DELETE with sqlglot and returns one
`QueryBlock` per SELECT/UPDATE/DELETE body (subqueries included), every column resolved through
the block's aliases to its real table. Only what a plain B-tree index can serve is kept: a column
compared as it is (not inside a function or a cast) with a value, a placeholder or a column of an
enclosing query. Django writes `%s` placeholders; they are read as `?` so every dialect parses them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# Predicate kinds: what a B-tree can do with the column.
EQ, IN, RANGE, IS_NULL, NOT_NULL = "eq", "in", "range", "is_null", "not_null"

_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql", "oracle": "oracle"}
_STRING_OR_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|%%|%s")


@dataclass(frozen=True, slots=True)
class Column:
    table: str
    name: str


@dataclass(frozen=True, slots=True)
class Predicate:
    column: Column
    kind: str  # eq | in | range | is_null | not_null


@dataclass(frozen=True, slots=True)
class SortKey:
    column: Column
    descending: bool = False


@dataclass(frozen=True, slots=True)
class JoinKey:
    left: Column
    right: Column


@dataclass(frozen=True, slots=True)
class QueryBlock:
    """One SELECT (or the body of an UPDATE/DELETE), with its own FROM list."""

    kind: str  # SELECT | UPDATE | DELETE
    tables: tuple[tuple[str, str], ...]  # (alias, table), in FROM/JOIN order
    predicates: tuple[Predicate, ...] = ()
    order_by: tuple[SortKey, ...] = ()  # the leading plain columns of ORDER BY
    order_complete: bool = True  # False when ORDER BY goes on past those columns
    group_by: tuple[Column, ...] = ()
    joins: tuple[JoinKey, ...] = ()
    limit: bool = False

    def columns(self, table: str, *kinds: str) -> tuple[str, ...]:
        """Columns of `table` with a predicate of one of `kinds`, first appearance first."""
        seen: dict[str, None] = {}
        for p in self.predicates:
            if p.column.table == table and p.kind in kinds:
                seen.setdefault(p.column.name)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class StatementShape:
    kind: str
    blocks: tuple[QueryBlock, ...]

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(sorted({t for b in self.blocks for _, t in b.tables}))


def placeholders_as_qmarks(sql: str) -> str:
    """Django's `%s` placeholders as `?` (and `%%` as `%`), string literals left alone."""

    def swap(match: re.Match[str]) -> str:
        text = match.group()
        return {"%s": "?", "%%": "%"}.get(text, text)

    return _STRING_OR_PLACEHOLDER.sub(swap, sql)


def placeholder_count(sql: str) -> int:
    """How many `%s` placeholders the statement has (outside string literals)."""
    return sum(1 for m in _STRING_OR_PLACEHOLDER.finditer(sql) if m.group() == "%s")


def numbered_placeholders(sql: str) -> str:
    """`%s` as `$1`, `$2`, … (PostgreSQL's PREPARE); `%%` as `%`."""
    counter = iter(range(1, 1_000_000))

    def swap(match: re.Match[str]) -> str:
        text = match.group()
        if text == "%s":
            return f"${next(counter)}"
        return "%" if text == "%%" else text

    return _STRING_OR_PLACEHOLDER.sub(swap, sql)


def named_placeholders(sql: str) -> tuple[str, int]:
    """`%s` as `:p0`, `:p1`, … (`%%` as `%`), and how many there were: a parse tree then says
    which parameter each placeholder is, whatever order the tree keeps its parts in.

    >>> named_placeholders("SELECT 1 WHERE a = %s AND b LIKE '%s' AND c IN (%s, %s)")
    ("SELECT 1 WHERE a = :p0 AND b LIKE '%s' AND c IN (:p1, :p2)", 3)
    """
    count = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        text = match.group()
        if text == "%s":
            count += 1
            return f":p{count - 1}"
        return "%" if text == "%%" else text

    return _STRING_OR_PLACEHOLDER.sub(swap, sql), count


def parse_tree(sql: str, vendor: str = "") -> exp.Expression | None:
    """One statement (placeholders already rewritten) parsed in the vendor's dialect, or None."""
    return _parse(sql, _DIALECTS.get(vendor))


@lru_cache(maxsize=2048)
def parse_statement(sql: str, vendor: str = "") -> StatementShape | None:
    """The statement's query blocks, or None when it is not a SELECT/UPDATE/DELETE we can read."""
    text = placeholders_as_qmarks(sql)
    tree = _parse(text, _DIALECTS.get(vendor))
    if tree is None:
        return None
    if isinstance(tree, exp.Select | exp.SetOperation):
        kind = "SELECT"
    elif isinstance(tree, exp.Update):
        kind = "UPDATE"
    elif isinstance(tree, exp.Delete):
        kind = "DELETE"
    else:
        return None
    blocks: list[QueryBlock] = []
    _collect(tree, {}, blocks)
    return StatementShape(kind=kind, blocks=tuple(blocks))


def _parse(text: str, dialect: str | None) -> exp.Expression | None:
    for read in dict.fromkeys((dialect, None)):
        try:
            trees = sqlglot.parse(text, read=read)
        except SqlglotError:
            continue
        if len(trees) == 1 and isinstance(trees[0], exp.Expression):
            return trees[0]
    return None


def _collect(node: exp.Expression, outer: Mapping[str, str], blocks: list[QueryBlock]) -> None:
    """Read every block under `node`; `outer` maps the enclosing blocks' aliases to tables."""
    if isinstance(node, exp.Select | exp.Update | exp.Delete):
        aliases = _aliases(node)
        blocks.append(_block(node, aliases, outer))
        inner_outer = {**outer, **aliases}
        for child in _child_blocks(node):
            _collect(child, inner_outer, blocks)
    else:
        for child in _child_blocks(node):
            _collect(child, outer, blocks)


def _child_blocks(node: exp.Expression) -> Iterator[exp.Expression]:
    """The nearest SELECT/UPDATE/DELETE nodes below `node` (not their own descendants)."""
    stack = list(node.iter_expressions())
    while stack:
        child = stack.pop(0)
        if isinstance(child, exp.Select | exp.Update | exp.Delete):
            yield child
        else:
            stack.extend(child.iter_expressions())


def _sources(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.Update | exp.Delete):
        items: list[exp.Expression] = [node.this] if node.this is not None else []
        source = node.args.get("from_") or node.args.get("from")
        if source is not None:
            items.append(source.this)
        return items + [j.this for j in node.args.get("joins") or []]
    source = node.args.get("from_") or node.args.get("from")
    items = [source.this] if source is not None else []
    return items + [j.this for j in node.args.get("joins") or []]


def _aliases(node: exp.Expression) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for source in _sources(node):
        if isinstance(source, exp.Table) and source.name:
            aliases[source.alias_or_name] = source.name
    return aliases


class _Resolver:
    def __init__(self, aliases: Mapping[str, str], outer: Mapping[str, str]) -> None:
        self.aliases = aliases
        self.outer = outer
        self.single = next(iter(aliases.values())) if len(aliases) == 1 else None

    def local(self, node: exp.Expression) -> Column | None:
        """The block's own table column `node` is, unwrapped from parentheses; else None."""
        node = _unparen(node)
        if not isinstance(node, exp.Column) or not node.name:
            return None
        qualifier = node.table
        if qualifier:
            table = self.aliases.get(qualifier)
            return Column(table, node.name) if table else None
        return Column(self.single, node.name) if self.single else None

    def is_value(self, node: exp.Expression) -> bool:
        """True when `node` is fixed for one execution of the block: no column of its own."""
        for column in node.find_all(exp.Column):
            qualifier = column.table
            if not qualifier or qualifier in self.aliases or qualifier not in self.outer:
                return False
        return not any(node.find_all(exp.Select))


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _conjuncts(node: exp.Expression | None) -> Iterator[exp.Expression]:
    if node is None:
        return
    node = _unparen(node)
    if isinstance(node, exp.And):
        yield from _conjuncts(node.this)
        yield from _conjuncts(node.expression)
    else:
        yield node


_COMPARISONS: dict[type[exp.Expression], str] = {
    exp.EQ: EQ,
    exp.NullSafeEQ: EQ,
    exp.GT: RANGE,
    exp.GTE: RANGE,
    exp.LT: RANGE,
    exp.LTE: RANGE,
}


def _predicates(
    condition: exp.Expression | None, resolve: _Resolver
) -> tuple[list[Predicate], list[JoinKey]]:
    predicates: list[Predicate] = []
    joins: list[JoinKey] = []
    for term in _conjuncts(condition):
        negated = isinstance(term, exp.Not)
        inner = _unparen(term.this) if negated else term
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            # `x IS NOT NULL` reads as NOT (x IS NULL) in some dialects, as a negated IS in others.
            if bool(inner.args.get("negate")):
                negated = not negated
            if column := resolve.local(inner.this):
                predicates.append(Predicate(column, NOT_NULL if negated else IS_NULL))
        elif column := resolve.local(inner):
            predicates.append(Predicate(column, EQ))  # a boolean column, or NOT of one
        elif negated:
            continue
        elif type(term) in _COMPARISONS:
            kind = _COMPARISONS[type(term)]
            left, right = resolve.local(term.this), resolve.local(term.expression)
            if left and right:
                if kind == EQ and left.table and right.table and left != right:
                    joins.append(JoinKey(left, right))
            elif left and resolve.is_value(term.expression):
                predicates.append(Predicate(left, kind))
            elif right and resolve.is_value(term.this):
                predicates.append(Predicate(right, kind))
        elif isinstance(term, exp.Between):
            if (column := resolve.local(term.this)) and all(
                resolve.is_value(term.args[k]) for k in ("low", "high")
            ):
                predicates.append(Predicate(column, RANGE))
        elif isinstance(term, exp.In) and (column := resolve.local(term.this)):
            predicates.append(Predicate(column, IN))
    return predicates, joins


def _output_expression(node: exp.Expression, select: exp.Expression) -> exp.Expression:
    """`ORDER BY 2` / `GROUP BY 1` / an output alias → the select-list expression it names."""
    outputs = select.expressions if isinstance(select, exp.Select) else []
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        position = int(node.this) - 1
        if 0 <= position < len(outputs):
            node = outputs[position]
    elif isinstance(node, exp.Column) and not node.table:
        for output in outputs:
            if isinstance(output, exp.Alias) and output.alias == node.name:
                node = output
                break
    return node.this if isinstance(node, exp.Alias) else node


def _block(node: exp.Expression, aliases: dict[str, str], outer: Mapping[str, str]) -> QueryBlock:
    resolve = _Resolver(aliases, outer)
    where = node.args.get("where")
    predicates, joins = _predicates(where.this if where is not None else None, resolve)
    for join in node.args.get("joins") or []:
        more, keys = _predicates(join.args.get("on"), resolve)
        predicates += more
        joins += keys
    order: list[SortKey] = []
    order_node = node.args.get("order")
    complete = True
    for ordered in order_node.expressions if order_node is not None else []:
        column = resolve.local(_output_expression(ordered.this, node))
        if column is None:
            complete = False
            break
        order.append(SortKey(column, bool(ordered.args.get("desc"))))
    group: list[Column] = []
    group_node = node.args.get("group")
    for item in group_node.expressions if group_node is not None else []:
        if column := resolve.local(_output_expression(item, node)):
            group.append(column)
    kind = {exp.Update: "UPDATE", exp.Delete: "DELETE"}.get(type(node), "SELECT")
    return QueryBlock(
        kind=kind,
        tables=tuple(aliases.items()),
        predicates=tuple(predicates),
        order_by=tuple(order),
        order_complete=complete,
        group_by=tuple(group),
        joins=tuple(joins),
        limit=node.args.get("limit") is not None,
    )

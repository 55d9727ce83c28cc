"""MySQL and MariaDB plans: the document of `EXPLAIN FORMAT=JSON`, and whether an index helped.

Both servers write a `query_block` whose `nested_loop` lists the tables in join order, each with
its `access_type` (`ALL` a full scan, `index` a full index scan, `range`, `ref`, `eq_ref`,
`const`…), the `key` used and the `rows` examined; a sort shows as a `filesort` node (MariaDB) or
`using_filesort` (MySQL). MySQL adds estimated costs (`cost_info.query_cost`), MariaDB 11 a `cost`;
MariaDB 10 has none, so without costs the judgement reads rows examined and the access types.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from perftoolkit.core.indexes.plans import Judgement, elide_literals

# Access types that read every row (of the table, or of a whole index).
FULL_SCANS = frozenset({"ALL", "index"})
_CONDITIONS = ("attached_condition", "index_condition")


@dataclass(frozen=True, slots=True)
class MysqlAccess:
    table: str  # the table, or its alias in the statement
    access_type: str
    key: str | None
    rows: float  # rows examined, estimated
    filtered: float  # percent of them kept by the conditions

    @property
    def full_scan(self) -> bool:
        return self.access_type in FULL_SCANS


@dataclass(frozen=True, slots=True)
class MysqlPlan:
    accesses: tuple[MysqlAccess, ...]
    filesorts: int
    temporary: int
    cost: float | None  # the optimizer's estimate (MySQL; MariaDB 11), else None
    text: str
    # The same statement planned on the scratch copy without the candidate index, when the
    # candidate was tried there (so the judgement compares like with like).
    baseline: MysqlPlan | None = None

    def uses(self, index: str) -> bool:
        return any(a.key == index for a in self.accesses)

    @property
    def rows_examined(self) -> float:
        """Rows the nested loop reads: each table's rows times the rows kept before it."""
        total, outer = 0.0, 1.0
        for access in self.accesses:
            total += outer * access.rows
            outer *= max(access.rows * access.filtered / 100.0, 1.0)
        return total


def parse_mysql_plan(document: Any, *, literals: bool = False) -> MysqlPlan:
    """`EXPLAIN FORMAT=JSON` output (decoded) → plan."""
    root: Mapping[str, Any] = document["query_block"]
    accesses: list[MysqlAccess] = []
    lines: list[str] = []
    sorts = temporary = 0
    for depth, key, node in _walk(root, 0):
        if key in ("filesort",) or (isinstance(node, Mapping) and node.get("using_filesort")):
            sorts += 1
            sort_key = node.get("sort_key") if isinstance(node, Mapping) else None
            lines.append("  " * depth + "filesort" + (f" on {sort_key}" if sort_key else ""))
        if key in ("temporary_table",) or (
            isinstance(node, Mapping) and node.get("using_temporary_table")
        ):
            temporary += 1
            lines.append("  " * depth + "temporary table")
        if key == "table" and isinstance(node, Mapping):
            access = _access(node)
            accesses.append(access)
            lines.append("  " * depth + _describe(access, node, literals))
    cost = _cost(root)
    return MysqlPlan(
        accesses=tuple(accesses),
        filesorts=sorts,
        temporary=temporary,
        cost=cost,
        text="\n".join(lines),
    )


def _walk(node: Any, depth: int, key: str = "") -> Iterator[tuple[int, str, Any]]:
    yield depth, key, node
    if isinstance(node, Mapping):
        for child_key, child in node.items():
            if isinstance(child, Mapping | list):
                yield from _walk(child, depth + (child_key == "table"), child_key)
    elif isinstance(node, list):
        for child in node:
            yield from _walk(child, depth, key if key != "nested_loop" else "")


def _access(node: Mapping[str, Any]) -> MysqlAccess:
    rows = node.get("rows", node.get("rows_examined_per_scan", 0))
    return MysqlAccess(
        table=str(node.get("table_name", "?")),
        access_type=str(node.get("access_type", "?")),
        key=str(node["key"]) if node.get("key") else None,
        rows=float(rows or 0),
        filtered=float(node.get("filtered", 100) or 100),
    )


def _describe(access: MysqlAccess, node: Mapping[str, Any], literals: bool) -> str:
    text = f"{access.access_type} on {access.table}"
    if access.key:
        parts = node.get("used_key_parts")
        text += f" using {access.key}" + (f" ({', '.join(map(str, parts))})" if parts else "")
    text += f"  (rows={access.rows:g} filtered={access.filtered:g}%)"
    for name in _CONDITIONS:
        if name in node:
            value = str(node[name])
            text += f"\n    {name}: {value if literals else elide_literals(value)}"
    return text


def _cost(root: Mapping[str, Any]) -> float | None:
    info = root.get("cost_info")
    value = info.get("query_cost") if isinstance(info, Mapping) else root.get("cost")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def judge_mysql(before: MysqlPlan, after: MysqlPlan, index: str, min_factor: float) -> Judgement:
    """Verified when the optimizer uses `index` and the plan improves: a full scan becomes a
    lookup, a filesort or temporary table disappears, or the estimated cost (else the rows
    examined) falls by `min_factor`×. `after.baseline`, when set, stands in for `before`."""
    base = after.baseline or before
    if not after.uses(index):
        return Judgement(
            False, False, "the optimizer does not use it; its plan stays: " + _one_line(after)
        )
    measure = "estimated cost" if base.cost and after.cost else "rows examined"
    old = base.cost if measure == "estimated cost" else base.rows_examined
    new = after.cost if measure == "estimated cost" else after.rows_examined
    assert old is not None
    assert new is not None
    ratio = old / new if new > 0 else float("inf")
    better: list[str] = []
    for access in after.accesses:
        if access.key == index and not access.full_scan:
            earlier = [a for a in base.accesses if a.table == access.table]
            if any(a.full_scan for a in earlier):
                was = earlier[0]
                better.append(
                    f"{was.access_type} on {access.table} becomes {access.access_type} "
                    f"using {index}"
                )
    if base.filesorts > after.filesorts:
        better.append("no filesort")
    if base.temporary > after.temporary:
        better.append("no temporary table")
    figures = f"{measure} {old:g} → {new:g}"
    if ratio >= min_factor:
        better.append(f"{figures} ({ratio:.1f}× fewer)")
    if not better:
        return Judgement(
            True, False, f"the optimizer uses it but the plan does not improve ({figures})", ratio
        )
    return Judgement(True, True, "; ".join(better), ratio)


def _one_line(plan: MysqlPlan) -> str:
    return " | ".join(line.strip() for line in plan.text.splitlines())

"""Query plans read from EXPLAIN output, and the judgement whether an index improved one.

SQLite: the rows of `EXPLAIN QUERY PLAN` (id, parent, notused, detail). PostgreSQL: the document
of `EXPLAIN (FORMAT JSON)`. Both become a plan that knows which indexes it uses, what it scans in
full and what it sorts, plus a text rendering in which (PostgreSQL) literal values are elided
unless asked, since plans are shown in reports and parameters never are by default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_SQLITE_ACCESS = re.compile(
    r"^(?P<op>SCAN|SEARCH) (?P<label>\S+)(?: AS \S+)?"
    r"(?: USING (?P<how>(?:(?:AUTOMATIC )?(?:PARTIAL )?COVERING )?INDEX (?P<index>\S+)"
    r"|INTEGER PRIMARY KEY|PRIMARY KEY))?(?: \((?P<terms>.*)\))?"
)
_SQLITE_TEMP = re.compile(r"^USE TEMP B-TREE FOR (?P<what>.+)$")


@dataclass(frozen=True, slots=True)
class Judgement:
    """Whether the planner used the index, whether that counts as better, and why."""

    used: bool
    verified: bool
    reason: str
    ratio: float | None = None  # estimated cost before / after (PostgreSQL)


@dataclass(frozen=True, slots=True)
class SqliteAccess:
    label: str  # the table, or its alias in the statement
    search: bool  # SEARCH (an index lookup) rather than SCAN (every row)
    index: str | None  # the index name, "PRIMARY KEY", or None
    terms: tuple[str, ...]  # the lookup's terms: ("user_id=?", "created_at>?")


@dataclass(frozen=True, slots=True)
class SqlitePlan:
    rows: tuple[tuple[int, int, str], ...]
    accesses: tuple[SqliteAccess, ...]
    temp_btrees: tuple[str, ...]  # "ORDER BY", "GROUP BY", "DISTINCT", "RIGHT PART OF ORDER BY"…

    def uses(self, index: str) -> bool:
        return any(a.index == index for a in self.accesses)

    @property
    def text(self) -> str:
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, detail in self.rows:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        return "\n".join(lines)


def parse_sqlite_plan(rows: Iterable[Sequence[Any]]) -> SqlitePlan:
    """`EXPLAIN QUERY PLAN` rows → plan (a row is (id, parent, notused, detail))."""
    kept: list[tuple[int, int, str]] = []
    accesses: list[SqliteAccess] = []
    temps: list[str] = []
    for row in rows:
        node, parent, detail = int(row[0]), int(row[1]), str(row[-1])
        kept.append((node, parent, detail))
        if match := _SQLITE_ACCESS.match(detail):
            how = match.group("how") or ""
            index = match.group("index") or ("PRIMARY KEY" if "PRIMARY KEY" in how else None)
            terms = match.group("terms")
            accesses.append(
                SqliteAccess(
                    label=match.group("label"),
                    search=match.group("op") == "SEARCH",
                    index=index,
                    terms=tuple(t.strip() for t in terms.split(" AND ")) if terms else (),
                )
            )
        elif match := _SQLITE_TEMP.match(detail):
            temps.append(match.group("what"))
    return SqlitePlan(rows=tuple(kept), accesses=tuple(accesses), temp_btrees=tuple(temps))


def judge_sqlite(before: SqlitePlan, after: SqlitePlan, index: str) -> Judgement:
    """Verified when SQLite uses `index` and the plan improves: a SCAN becomes a SEARCH, a temp
    B-tree (sort) disappears, or the index serves more lookup terms than the best before it."""
    using = [a for a in after.accesses if a.index == index]
    if not using:
        return Judgement(
            False,
            False,
            "SQLite's planner does not use it; its plan stays: " + _one_line(after.text),
        )
    better: list[str] = []
    for access in using:
        earlier = [a for a in before.accesses if a.label == access.label]
        if access.search and any(not a.search for a in earlier):
            better.append(
                f"SCAN {access.label} becomes SEARCH {access.label} ({' AND '.join(access.terms)})"
            )
        most = max((len(a.terms) for a in earlier if a.search), default=0)
        if (
            access.search
            and earlier
            and all(a.search for a in earlier)
            and len(access.terms) > most
        ):
            better.append(
                f"the lookup on {access.label} uses {len(access.terms)} terms instead of {most}"
            )
    for what in sorted(set(before.temp_btrees)):
        if before.temp_btrees.count(what) > after.temp_btrees.count(what):
            better.append(f"no temp B-tree for {what}")
    if not better:
        return Judgement(
            True, False, "SQLite uses it but the plan does not improve: " + _one_line(after.text)
        )
    return Judgement(True, True, "; ".join(better))


def _one_line(text: str) -> str:
    return " | ".join(line.strip() for line in text.splitlines())


# PostgreSQL -------------------------------------------------------------------------------------

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w$.\"])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.\"])")
_DETAIL_KEYS = (
    "Index Cond",
    "Recheck Cond",
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
    "Filter",
    "Sort Key",
    "Group Key",
)


def elide_literals(text: str) -> str:
    """String and number literals written `?`: `(status)::text = 'paid'::text` → `= ?::text`."""
    return _NUMBER.sub("?", _STRING.sub("?", text))


@dataclass(frozen=True, slots=True)
class PostgresPlan:
    total_cost: float
    startup_cost: float
    rows: float
    indexes: tuple[str, ...]
    seq_scans: tuple[str, ...]
    sorts: int
    text: str

    def uses(self, index: str) -> bool:
        return index in self.indexes


def parse_postgres_plan(document: Any, *, literals: bool = False) -> PostgresPlan:
    """`EXPLAIN (FORMAT JSON)` output (the list, or its JSON text already decoded) → plan."""
    if isinstance(document, list):
        document = document[0]
    root: Mapping[str, Any] = document["Plan"]
    indexes: list[str] = []
    scans: list[str] = []
    sorts = 0
    lines: list[str] = []

    def walk(node: Mapping[str, Any], depth: int) -> None:
        nonlocal sorts
        kind = str(node.get("Node Type", "?"))
        if "Index Name" in node:
            indexes.append(str(node["Index Name"]))
        if kind == "Seq Scan":
            scans.append(str(node.get("Relation Name", "")))
        if kind in ("Sort", "Incremental Sort"):
            sorts += 1
        indent = "" if depth == 0 else "  " * (depth - 1) + "->  "
        cost = f"(cost={node.get('Startup Cost', 0):.2f}..{node.get('Total Cost', 0):.2f} rows={node.get('Plan Rows', 0):g})"
        lines.append(f"{indent}{_node_label(node)}  {cost}")
        pad = "  " * depth + ("    " if depth else "  ")
        for key in _DETAIL_KEYS:
            if key in node:
                value = node[key]
                value = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
                lines.append(f"{pad}{key}: {value if literals else elide_literals(value)}")
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(root, 0)
    return PostgresPlan(
        total_cost=float(root.get("Total Cost", 0.0)),
        startup_cost=float(root.get("Startup Cost", 0.0)),
        rows=float(root.get("Plan Rows", 0.0)),
        indexes=tuple(indexes),
        seq_scans=tuple(scans),
        sorts=sorts,
        text="\n".join(lines),
    )


def _node_label(node: Mapping[str, Any]) -> str:
    kind = str(node.get("Node Type", "?"))
    join = node.get("Join Type")
    if kind == "Aggregate":
        kind = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate"}.get(
            str(node.get("Strategy")), "Aggregate"
        )
    if join and join != "Inner":
        kind = (
            f"{kind} {join} Join" if kind == "Nested Loop" else kind.replace("Join", f"{join} Join")
        )
    if node.get("Scan Direction") == "Backward":
        kind += " Backward"
    if "Index Name" in node:
        kind += f" using {node['Index Name']}"
    if "Relation Name" in node:
        relation, alias = node["Relation Name"], node.get("Alias")
        kind += f" on {relation}" + (f" {alias}" if alias and alias != relation else "")
    return kind


def judge_postgres(
    before: PostgresPlan, after: PostgresPlan, index: str, min_factor: float
) -> Judgement:
    """Verified when the planner uses `index` and its estimated cost falls by `min_factor`×."""
    ratio = before.total_cost / after.total_cost if after.total_cost > 0 else float("inf")
    costs = f"estimated cost {before.total_cost:.2f} → {after.total_cost:.2f}"
    if not after.uses(index):
        first = after.text.splitlines()[0] if after.text else ""
        return Judgement(
            False, False, f"the planner does not use it ({costs}); it keeps: {first}", ratio
        )
    if ratio < min_factor:
        return Judgement(
            True,
            False,
            f"the planner uses it but the {costs} is only {ratio:.2f}× cheaper "
            f"(at least {min_factor:g}× asked)",
            ratio,
        )
    return Judgement(True, True, f"{costs} ({ratio:.1f}× cheaper)", ratio)

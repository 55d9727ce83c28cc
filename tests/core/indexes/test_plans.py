"""EXPLAIN output parsers and judgements, on plans recorded from SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.core.indexes.plans import (
    SqliteAccess,
    elide_literals,
    judge_postgres,
    judge_sqlite,
    parse_postgres_plan,
    parse_sqlite_plan,
)

PLANS = Path(__file__).resolve().parents[2] / "data" / "plans"


def load(vendor: str, name: str) -> Any:
    return json.loads((PLANS / vendor / f"{name}.json").read_text())


def test_parse_sqlite_plan_scan_and_temp_btree() -> None:
    plan = parse_sqlite_plan(load("sqlite", "queue_before"))
    assert plan.accesses == (SqliteAccess("shop_order", search=False, index=None, terms=()),)
    assert plan.temp_btrees == ("ORDER BY",)
    assert plan.text == "SCAN shop_order\nUSE TEMP B-TREE FOR ORDER BY"


def test_parse_sqlite_plan_covering_index_terms() -> None:
    plan = parse_sqlite_plan(load("sqlite", "mine_after"))
    assert plan.accesses == (
        SqliteAccess("shop_order", True, "test_mine_idx", ("customer_id=?", "status=?")),
    )
    assert plan.uses("test_mine_idx")


def test_parse_sqlite_plan_nested_rows_indent() -> None:
    plan = parse_sqlite_plan(load("sqlite", "correlated_subquery"))
    assert plan.text == (
        "SCAN t\nCORRELATED SCALAR SUBQUERY 1\n  SEARCH U0 USING INDEX u_t (t_id=?)\n"
        "SEARCH v USING INTEGER PRIMARY KEY (rowid=?)"
    )
    assert [a.index for a in plan.accesses] == [None, "u_t", "PRIMARY KEY"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (
            "queue",
            "SCAN shop_order becomes SEARCH shop_order (status=?); no temp B-tree for ORDER BY",
        ),
        ("mine", "the lookup on shop_order uses 2 terms instead of 1"),
        (
            "recent",
            "SCAN shop_customer becomes SEARCH shop_customer (last_seen>?); "
            "no temp B-tree for ORDER BY",
        ),
    ],
)
def test_judge_sqlite_verified(name: str, reason: str) -> None:
    before = parse_sqlite_plan(load("sqlite", f"{name}_before"))
    after = parse_sqlite_plan(load("sqlite", f"{name}_after"))
    judgement = judge_sqlite(before, after, f"test_{name}_idx")
    assert (judgement.used, judgement.verified, judgement.reason) == (True, True, reason)


def test_judge_sqlite_used_without_improvement_is_rejected() -> None:
    before = parse_sqlite_plan(load("sqlite", "region_before"))
    after = parse_sqlite_plan(load("sqlite", "region_after"))
    judgement = judge_sqlite(before, after, "test_region_idx")
    assert (judgement.used, judgement.verified) == (True, False)
    assert judgement.reason == (
        "SQLite uses it but the plan does not improve: "
        "SEARCH shop_customer USING COVERING INDEX test_region_idx (region=?)"
    )


def test_judge_sqlite_not_used() -> None:
    before = parse_sqlite_plan(load("sqlite", "queue_before"))
    judgement = judge_sqlite(before, before, "test_queue_idx")
    assert (judgement.used, judgement.verified) == (False, False)
    assert judgement.reason == (
        "SQLite's planner does not use it; its plan stays: "
        "SCAN shop_order | USE TEMP B-TREE FOR ORDER BY"
    )


def test_parse_postgres_plan_elides_literals() -> None:
    plan = parse_postgres_plan(load("postgresql", "queue_after"))
    assert plan.total_cost == 12.68
    assert plan.indexes == ("test_queue_idx",)
    assert plan.seq_scans == ()
    assert plan.text == (
        "Limit  (cost=0.28..12.68 rows=20)\n"
        "->  Index Scan using test_queue_idx on shop_order  (cost=0.28..186.20 rows=300)\n"
        "      Index Cond: ((status)::text = ?::text)"
    )
    kept = parse_postgres_plan(load("postgresql", "queue_after"), literals=True)
    assert "Index Cond: ((status)::text = 'open'::text)" in kept.text


def test_parse_postgres_plan_nested_nodes() -> None:
    plan = parse_postgres_plan(load("postgresql", "mine_before"))
    lines = plan.text.splitlines()
    assert lines[0].startswith("Sort  (cost=")
    assert lines[1] == "  Sort Key: id"
    assert lines[2].startswith("->  Bitmap Heap Scan on shop_order  (cost=")
    assert lines[5].startswith("  ->  Bitmap Index Scan using shop_order_customer_id_")
    assert plan.sorts == 1
    before_seq = parse_postgres_plan(load("postgresql", "queue_before"))
    assert before_seq.seq_scans == ("shop_order",)


@pytest.mark.parametrize("name", ["queue", "mine", "recent"])
def test_judge_postgres_verified(name: str) -> None:
    before = parse_postgres_plan(load("postgresql", f"{name}_before"))
    after = parse_postgres_plan(load("postgresql", f"{name}_after"))
    judgement = judge_postgres(before, after, f"test_{name}_idx", 1.5)
    ratio = before.total_cost / after.total_cost
    assert judgement.verified is True
    assert judgement.ratio == ratio
    assert judgement.reason == (
        f"estimated cost {before.total_cost:.2f} → {after.total_cost:.2f} ({ratio:.1f}× cheaper)"
    )


def test_judge_postgres_below_factor_is_rejected() -> None:
    before = parse_postgres_plan(load("postgresql", "mine_before"))
    after = parse_postgres_plan(load("postgresql", "mine_after"))
    judgement = judge_postgres(before, after, "test_mine_idx", 10.0)
    assert (judgement.used, judgement.verified) == (True, False)
    assert "(at least 10× asked)" in judgement.reason


def test_judge_postgres_planner_keeps_seq_scan() -> None:
    before = parse_postgres_plan(load("postgresql", "region_before"))
    after = parse_postgres_plan(load("postgresql", "region_after"))
    judgement = judge_postgres(before, after, "test_region_idx", 1.5)
    assert (judgement.used, judgement.verified) == (False, False)
    assert judgement.reason == (
        "the planner does not use it (estimated cost 40.00 → 40.00); it keeps: "
        "Seq Scan on shop_customer  (cost=0.00..40.00 rows=1800)"
    )


@pytest.mark.parametrize(
    ("text", "elided"),
    [
        ("((status)::text = 'open'::text)", "((status)::text = ?::text)"),
        ("(customer_id = 17)", "(customer_id = ?)"),
        ("(t1.x > -2.5e3) AND ($1 = a2)", "(t1.x > ?) AND ($1 = a2)"),
        ("(name = 'it''s')", "(name = ?)"),
    ],
)
def test_elide_literals(text: str, elided: str) -> None:
    assert elide_literals(text) == elided

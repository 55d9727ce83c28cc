from __future__ import annotations

from perftoolkit.core.indexes.mysql_plans import MysqlPlan, judge_mysql, parse_mysql_plan

# MariaDB 10.11's EXPLAIN FORMAT=JSON of `SELECT * FROM t WHERE a = 5 ORDER BY b`, without and
# with an index on (a, b).
MARIADB_BEFORE = {
    "query_block": {
        "select_id": 1,
        "nested_loop": [
            {
                "read_sorted_file": {
                    "filesort": {
                        "sort_key": "t.b",
                        "table": {
                            "table_name": "t",
                            "access_type": "ALL",
                            "rows": 5000,
                            "filtered": 100,
                            "attached_condition": "t.a = 5",
                        },
                    }
                }
            }
        ],
    }
}
MARIADB_AFTER = {
    "query_block": {
        "select_id": 1,
        "nested_loop": [
            {
                "table": {
                    "table_name": "t",
                    "access_type": "ref",
                    "possible_keys": ["t_a_b"],
                    "key": "t_a_b",
                    "used_key_parts": ["a"],
                    "ref": ["const"],
                    "rows": 50,
                    "filtered": 100,
                    "attached_condition": "t.a <=> 5",
                }
            }
        ],
    }
}
# MySQL 8's shape: costs, `ordering_operation` with `using_filesort`.
MYSQL_BEFORE = {
    "query_block": {
        "select_id": 1,
        "cost_info": {"query_cost": "505.25"},
        "ordering_operation": {
            "using_filesort": True,
            "table": {
                "table_name": "t",
                "access_type": "ALL",
                "rows_examined_per_scan": 5000,
                "filtered": "10.00",
                "attached_condition": "(`db`.`t`.`a` = 5)",
            },
        },
    }
}
MYSQL_AFTER = {
    "query_block": {
        "select_id": 1,
        "cost_info": {"query_cost": "17.50"},
        "ordering_operation": {
            "using_filesort": False,
            "table": {
                "table_name": "t",
                "access_type": "ref",
                "key": "t_a_b",
                "rows_examined_per_scan": 50,
                "filtered": "100.00",
            },
        },
    }
}


def test_parse_mariadb_plan() -> None:
    plan = parse_mysql_plan(MARIADB_BEFORE)
    assert (plan.filesorts, plan.cost, plan.rows_examined) == (1, None, 5000.0)
    assert plan.text == (
        "filesort on t.b\n  ALL on t  (rows=5000 filtered=100%)\n    attached_condition: t.a = ?"
    )
    assert parse_mysql_plan(MARIADB_BEFORE, literals=True).text.endswith("t.a = 5")
    after = parse_mysql_plan(MARIADB_AFTER)
    assert after.uses("t_a_b")
    assert not plan.uses("t_a_b")


def test_parse_mysql_plan_with_costs() -> None:
    plan = parse_mysql_plan(MYSQL_BEFORE)
    assert (plan.filesorts, plan.cost) == (1, 505.25)
    assert plan.accesses[0].rows == 5000
    assert plan.accesses[0].filtered == 10
    assert parse_mysql_plan(MYSQL_AFTER).filesorts == 0


def test_rows_examined_multiplies_through_the_nested_loop() -> None:
    join = {
        "query_block": {
            "nested_loop": [
                {"table": {"table_name": "p", "access_type": "ALL", "rows": 100, "filtered": 10}},
                {
                    "table": {
                        "table_name": "q",
                        "access_type": "eq_ref",
                        "key": "PRIMARY",
                        "rows": 1,
                    }
                },
            ]
        }
    }
    assert parse_mysql_plan(join).rows_examined == 100 + 10 * 1


def test_judge_mariadb_without_costs() -> None:
    judgement = judge_mysql(
        parse_mysql_plan(MARIADB_BEFORE), parse_mysql_plan(MARIADB_AFTER), "t_a_b", 1.5
    )
    assert judgement.verified
    assert judgement.reason == (
        "ALL on t becomes ref using t_a_b; no filesort; rows examined 5000 → 50 (100.0× fewer)"
    )


def test_judge_mysql_with_costs() -> None:
    judgement = judge_mysql(
        parse_mysql_plan(MYSQL_BEFORE), parse_mysql_plan(MYSQL_AFTER), "t_a_b", 1.5
    )
    assert judgement.reason == (
        "ALL on t becomes ref using t_a_b; no filesort; estimated cost 505.25 → 17.5 (28.9× fewer)"
    )
    assert judgement.ratio is not None
    assert round(judgement.ratio, 1) == 28.9


def test_judge_unused_index_and_no_improvement() -> None:
    before = parse_mysql_plan(MARIADB_AFTER)
    unused = judge_mysql(before, parse_mysql_plan(MARIADB_BEFORE), "t_a_b", 1.5)
    assert (unused.used, unused.verified) == (False, False)
    assert unused.reason.startswith(
        "the optimizer does not use it; its plan stays: filesort on t.b"
    )
    same = judge_mysql(before, before, "t_a_b", 1.5)
    assert (same.used, same.verified) == (True, False)
    assert (
        same.reason == "the optimizer uses it but the plan does not improve (rows examined 50 → 50)"
    )


def test_judge_compares_with_the_scratch_baseline() -> None:
    real = parse_mysql_plan(MARIADB_AFTER)  # whatever the real table's plan was
    baseline = parse_mysql_plan(MARIADB_BEFORE)
    after = parse_mysql_plan(MARIADB_AFTER)
    with_baseline = MysqlPlan(
        **{**{f: getattr(after, f) for f in MysqlPlan.__dataclass_fields__}, "baseline": baseline}
    )
    assert judge_mysql(real, with_baseline, "t_a_b", 1.5).verified

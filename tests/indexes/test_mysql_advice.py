"""Index advice on MariaDB (the MariaDB session, `make test-mariadb`): EXPLAIN FORMAT=JSON on the
real tables, candidates tried on a scratch copy that is dropped afterwards, introspection of
MySQL's indexes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from perftoolkit.core.findings import IndexAdvice
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.indexes.adviser import advise_report
from perftoolkit.indexes.explain import explainer_for
from perftoolkit.indexes.explain.mysql import MysqlExplainer
from perftoolkit.indexes.introspection import table_schemas
from tests.support.mariadb import require_mysql
from tests.support.shop import record_shop, seed_shop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.mariadb]


@pytest.fixture
def report(client: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    require_mysql(connection.vendor)
    return record_shop(client, monkeypatch, tmp_path, seed_shop())


def _databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW DATABASES")
        return {str(row[0]) for row in cursor.fetchall()}


def _table_indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW INDEX FROM {connection.ops.quote_name(table)}")
        return {str(row[2]) for row in cursor.fetchall()}


def summary(advice: list[IndexAdvice]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(a.status, a.table, a.columns) for a in advice]


def test_advice_verified_on_a_scratch_copy(report: Path) -> None:
    before = _databases(), _table_indexes("shop_order"), _table_indexes("shop_customer")
    result = advise_report(report)
    by_columns = {(a.table, a.columns): a for a in result.advice}
    queue = by_columns[("shop_order", ("status", "placed_at"))]
    assert queue.status == "verified"
    # InnoDB's row estimates are sampled: the figures vary a little from run to run.
    assert re.fullmatch(
        r"ALL on shop_order becomes ref using shop_order_status_31bd54_idx; no filesort; rows "
        r"examined \d+ → \d+ \([\d.]+× fewer\) \(planned on a scratch copy of the tables\); "
        r"for GET shop/queue/",
        queue.reason,
    ), queue.reason
    assert queue.plan_before.splitlines()[0] == "filesort on shop_order.placed_at"
    assert queue.plan_before.splitlines()[1].startswith("  ALL on shop_order  (rows=")
    assert queue.plan_before.splitlines()[2] == "    attached_condition: shop_order.`status` = ?"
    assert "ref on shop_order using shop_order_status_31bd54_idx (status)" in queue.plan_after
    assert (queue.est_cost_before, queue.est_cost_after) == (None, None)  # MariaDB 10: no costs
    mine = by_columns[("shop_order", ("customer_id", "status"))]
    assert mine.status == "verified"
    assert mine.reason.startswith(
        "index on shop_order becomes ref using shop_order_custome_420169_idx; rows examined "
    )
    recent = by_columns[("shop_customer", ("-last_seen",))]
    assert recent.status == "verified"
    assert recent.reason.startswith(
        "ALL on shop_customer becomes range using shop_custom_last_se_83620b_idx; no filesort; "
    )
    assert recent.plan_before.splitlines()[0] == "filesort on shop_customer.last_seen desc"
    exists = by_columns[("shop_order", ("customer_id",))]
    assert exists.status == "exists"
    assert exists.name == "shop_order_customer_id_f638df20_fk_shop_customer_id"
    # Nothing left behind: no scratch database, no index on the real tables.
    assert (_databases(), _table_indexes("shop_order"), _table_indexes("shop_customer")) == before
    assert result.method == "scratch"


def test_review_of_existing_indexes_on_mysql(report: Path) -> None:
    advice = advise_report(report).advice
    reviewed = {
        (a.status, a.table, a.columns) for a in advice if a.status in ("redundant", "duplicate")
    }
    assert reviewed == {
        ("redundant", "shop_customer", ("region",)),
        ("duplicate", "shop_order", ("reference",)),
    }


def test_unverified_when_no_scratch_database_can_be_made(
    report: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A name the server refuses (over 64 characters) stands for a user without CREATE rights.
    monkeypatch.setattr(MysqlExplainer, "_scratch_name", lambda self: "x" * 80)
    advice = advise_report(report).advice
    proposed = [a for a in advice if a.status == "proposed"]
    assert proposed
    assert all(a.reason.startswith("unverified: MySQL DDL cannot be rolled back") for a in proposed)
    assert not [a for a in advice if a.status == "verified"]


def test_introspection_of_mysql_indexes() -> None:
    require_mysql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX shop_cust_name_prefix ON shop_customer (name(4))")
    try:
        schema = table_schemas(["shop_customer"])["shop_customer"]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX shop_cust_name_prefix ON shop_customer")
    by_name = {i.name: i for i in schema.indexes}
    assert by_name["PRIMARY"].primary
    assert by_name["shop_cust_region_name_idx"].columns == ("region", "name")
    assert by_name["shop_cust_region_name_idx"].origin == "Meta.indexes"
    assert by_name["shop_cust_name_prefix"].special  # a prefix index serves no whole-column lookup


def test_verify_with_is_refused_on_mysql() -> None:
    require_mysql(connection.vendor)
    with pytest.raises(ConfigurationError, match="--verify-with rollback is not for MySQL"):
        explainer_for("default", verify_with="rollback")

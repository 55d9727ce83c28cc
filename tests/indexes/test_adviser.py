"""The index adviser end to end: recorded requests → report.json → advice verified by the planner,
on SQLite and (in the PostgreSQL session) on PostgreSQL with hypopg and with rolled-back indexes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from perftoolkit.core.findings import IndexAdvice
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.indexes.adviser import advise, advise_report
from perftoolkit.indexes.explain.postgresql import PostgresExplainer
from perftoolkit.reporting.schema import read_run
from tests.support.shop import record_shop, seed_shop

# Data must be committed: PostgreSQL refuses CREATE INDEX on a table with pending (deferred
# foreign-key) trigger events, which rows inserted in the test's own transaction leave.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

VERIFIED = [
    ("verified", "shop_customer", ("-last_seen",), "shop_custom_last_se_83620b_idx"),
    ("verified", "shop_order", ("customer_id", "status"), "shop_order_custome_420169_idx"),
    ("verified", "shop_order", ("status", "placed_at"), "shop_order_status_31bd54_idx"),
]
REVIEWED = [
    ("exists", "shop_order", ("customer_id",), "shop_order_customer_id_f638df20"),
    ("redundant", "shop_customer", ("region",), "shop_cust_region_idx"),
    ("duplicate", "shop_order", ("reference",), "shop_order_reference_f6fe6de7"),
]


@pytest.fixture
def report(client: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return record_shop(client, monkeypatch, tmp_path, seed_shop())


def summary(advice: list[IndexAdvice]) -> list[tuple[str, str, tuple[str, ...], str]]:
    return [(a.status, a.table, a.columns, a.name) for a in advice if a.status != "unused"]


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: runs in the PostgreSQL session")


def require_hypopg() -> None:
    require_postgres()
    if not PostgresExplainer("default", verify_with="rollback").hypopg_available():
        reason = "hypopg is not installed on the PostgreSQL server (postgresql-15-hypopg)"
        if os.environ.get("PERFTOOLKIT_REQUIRE_HYPOPG", "") not in ("", "0"):
            pytest.fail(f"{reason} (PERFTOOLKIT_REQUIRE_HYPOPG=1 turns this skip into a failure)")
        pytest.skip(reason)


def test_advise_report_shop(report: Path) -> None:
    result = advise_report(report)
    assert summary(result.advice) == VERIFIED + REVIEWED
    by_name = {a.name: a for a in result.advice if a.status != "unused"}
    queue = by_name["shop_order_status_31bd54_idx"]
    assert queue.model == "shop.Order"
    assert queue.migration == (
        'migrations.AddIndex(model_name="order", index=models.Index(fields=["status", '
        '"placed_at"], name="shop_order_status_31bd54_idx"))'
    )
    assert queue.reason.endswith("; for GET shop/queue/")
    assert len(queue.queries) == 1
    assert by_name["shop_order_custome_420169_idx"].migration.endswith(
        'fields=["customer", "status"], name="shop_order_custome_420169_idx"))'
    )
    exists = by_name["shop_order_customer_id_f638df20"]
    assert exists.reason == (
        "shop_order_customer_id_f638df20 (customer_id; foreign key) already serves lookups on "
        "customer_id"
    )
    assert result.notes == []


def test_advise_report_sqlite_plans(report: Path) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's plans")
    advice = {a.name: a for a in advise_report(report).advice}
    recent = advice["shop_custom_last_se_83620b_idx"]
    assert recent.plan_before == "SCAN shop_customer\nUSE TEMP B-TREE FOR ORDER BY"
    assert recent.plan_after == (
        "SEARCH shop_customer USING INDEX shop_custom_last_se_83620b_idx (last_seen>?)"
    )
    assert recent.reason == (
        "SCAN shop_customer becomes SEARCH shop_customer (last_seen>?); no temp B-tree for "
        "ORDER BY; for GET shop/recent/"
    )
    assert (recent.est_cost_before, recent.est_cost_after) == (None, None)
    mine = advice["shop_order_custome_420169_idx"]
    assert mine.reason == "the lookup on shop_order uses 2 terms instead of 1; for GET shop/mine/"


def test_advise_report_postgres_hypopg(report: Path) -> None:
    require_hypopg()
    result = advise_report(report)
    assert result.method == "hypopg"
    assert summary(result.advice) == VERIFIED + REVIEWED
    for item in result.advice[:3]:
        assert item.est_cost_before is not None
        assert item.est_cost_after is not None
        assert item.est_cost_before / item.est_cost_after >= 1.5
        assert "btree_shop_" in item.plan_after  # hypopg's name for the hypothetical index
        assert item.reason.startswith(
            f"estimated cost {item.est_cost_before:.2f} → {item.est_cost_after:.2f}"
        )
    # Parameters stay out of the plans unless asked.
    assert "refunded" not in json.dumps([a.to_dict() for a in result.advice])
    unused = [a for a in result.advice if a.status == "unused"]
    assert "shop_cust_region_name_idx" in {a.name for a in unused}
    assert {a.name for a in unused} <= {
        "shop_cust_region_name_idx",
        "shop_order_customer_id_f638df20",
        "shop_order_ref_dup",
    }
    assert all("pg_stat_user_indexes counts 0 scans" in a.reason for a in unused)


def test_advise_report_postgres_rollback(report: Path) -> None:
    require_postgres()
    result = advise_report(report, verify_with="rollback")
    assert result.method == "rollback"
    assert summary(result.advice) == VERIFIED + REVIEWED
    queue = next(a for a in result.advice if a.name == "shop_order_status_31bd54_idx")
    assert "Index Scan using shop_order_status_31bd54_idx on shop_order" in queue.plan_after
    with connection.cursor() as cursor:  # rolled back: nothing was left behind
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname LIKE %s", ["%31bd54%"])
        assert cursor.fetchone() == (0,)


def test_advise_report_postgres_min_cost_factor_rejects(report: Path) -> None:
    require_postgres()
    advice = advise_report(report, min_cost_factor=50).advice
    rejected = [a for a in advice if a.status == "rejected"]
    assert [a.name for a in rejected] == [v[3] for v in VERIFIED]
    assert all("(at least 50× asked)" in a.reason for a in rejected)


def test_advise_report_include_params_keeps_values(report: Path) -> None:
    require_postgres()
    advice = advise_report(report, include_params=True, verify_with="rollback").advice
    mine = next(a for a in advice if a.name == "shop_order_custome_420169_idx")
    assert "'refunded'::text" in mine.plan_before


def test_advise_report_update_report_writes_indexes(report: Path) -> None:
    before = read_run(report)
    result = advise_report(report, update_report=True)
    after = read_run(report)
    assert list(after.indexes) == result.advice
    assert after.record_dir == before.record_dir
    assert json.loads(report.read_text())["record_dir"] == "../record"


def test_advise_without_samples_explains_generic_plans(report: Path) -> None:
    run = read_run(report)
    advice = advise(run.with_changes(record_dir=None))
    assert summary(advice)[:3] == VERIFIED


def test_advise_with_redacted_samples_uses_generic_plans_and_says_so(report: Path) -> None:
    run = read_run(report)
    assert run.record_dir is not None
    samples = list((Path(run.record_dir) / "samples").glob("*.json"))
    for sample in samples:
        data = json.loads(sample.read_text())
        data.update(params=None, redacted="values bound to shop_order.status")
        sample.write_text(json.dumps(data))
    result = advise_report(report)
    assert summary(result.advice)[:3] == VERIFIED
    redacted = [n for n in result.notes if "redacted" in n]
    assert len(redacted) == 1
    assert redacted[0].endswith(
        'had their sample parameters redacted (SAMPLES "redacted": a value may be a secret): '
        "generic plans"
    )


def test_advise_record_dir_must_exist(report: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is not a directory"):
        advise(read_run(report), record_dir=tmp_path / "missing")


def test_advise_min_rows_leaves_small_tables(report: Path) -> None:
    result = advise_report(report, min_rows=100_000)
    assert [a.status for a in result.advice] == ["redundant", "duplicate"] + [
        "unused" for a in result.advice if a.status == "unused"
    ]
    assert result.notes == [
        "not indexed, fewer than 100000 rows: shop_customer, shop_order (--min-rows changes this)"
    ]


def test_advise_rejects_bad_options(report: Path) -> None:
    run = read_run(report)
    with pytest.raises(ConfigurationError, match="--min-cost-factor 0.5"):
        advise(run, min_cost_factor=0.5)
    with pytest.raises(ConfigurationError, match="no database alias 'nope'"):
        advise(run, database="nope")
    if connection.vendor == "sqlite":
        with pytest.raises(ConfigurationError, match="--verify-with hypopg needs PostgreSQL"):
            advise(run, verify_with="hypopg")


def test_explain_failure_is_logged_and_leaves_no_plan(caplog: pytest.LogCaptureFixture) -> None:
    from perftoolkit.indexes.explain import ExplainQuery, explainer_for

    explainer = explainer_for("default")
    query = ExplainQuery("broken", 'SELECT "id" FROM "no_such_table"', [])

    with caplog.at_level("WARNING", logger="perftoolkit.indexes.explain"):
        assert explainer.explain(query) is None

    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith("perftoolkit: EXPLAIN failed (")
    assert "\n" not in message  # the database's first line only: one line in the log
    assert ' for SELECT "id" FROM "no_such_table"; index advice for this statement is left ' in (
        message
    )

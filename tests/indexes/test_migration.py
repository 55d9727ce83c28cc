"""The written migration is a real one: imported, applied by `migrate`, and the plans use it."""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client, override_settings

from perftoolkit.indexes.adviser import advise_report
from perftoolkit.indexes.explain import ExplainQuery, explainer_for
from perftoolkit.indexes.migration import describe_migration, write_index_migration
from tests.support.shop import record_shop, seed_shop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SHOP_MIGRATIONS = Path(__file__).resolve().parents[1] / "shop" / "migrations"


@pytest.fixture
def migrations_package(tmp_path: Path) -> Iterator[str]:
    """A copy of the shop app's migrations the test may write into."""
    name = f"shop_migrations_{tmp_path.name.replace('-', '_')}"
    package = tmp_path / "modules" / name
    package.mkdir(parents=True)
    for source in SHOP_MIGRATIONS.glob("0*.py"):
        shutil.copy(source, package / source.name)
    (package / "__init__.py").write_text("")
    sys.path.insert(0, str(package.parent))
    try:
        with override_settings(MIGRATION_MODULES={"shop": name}):
            yield name
    finally:
        sys.path.remove(str(package.parent))
        for module in [m for m in sys.modules if m.startswith(name)]:
            del sys.modules[module]


def test_write_index_migration_applies_and_plans_use_it(
    client: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, migrations_package: str
) -> None:
    report = record_shop(client, monkeypatch, tmp_path, seed_shop())
    advice = advise_report(report).advice
    written = write_index_migration(advice, "shop")
    assert written is not None
    assert written.name == "0002_perftoolkit_indexes"
    assert written.path.parent.name == migrations_package
    assert written.dependencies == (("shop", "0001_initial"),)
    module = importlib.import_module(f"{migrations_package}.0002_perftoolkit_indexes")
    operations = module.Migration.operations
    assert [(op.model_name, op.index.fields, op.index.name) for op in operations] == [
        ("customer", ["-last_seen"], "shop_custom_last_se_83620b_idx"),
        ("order", ["customer", "status"], "shop_order_custome_420169_idx"),
        ("order", ["status", "placed_at"], "shop_order_status_31bd54_idx"),
    ]
    text = describe_migration(written, "shop")
    assert "shop.Order (tests/shop/models.py), class Meta:" in text
    assert (
        '      indexes = [models.Index(fields=["customer", "status"], '
        'name="shop_order_custome_420169_idx"), models.Index(fields=["status", "placed_at"], '
        'name="shop_order_status_31bd54_idx")]'
    ) in text
    try:
        call_command("migrate", "shop", verbosity=0)
        assert (
            MigrationRecorder(connection)
            .migration_qs.filter(app="shop", name="0002_perftoolkit_indexes")
            .exists()
        )
        explainer = explainer_for("default")
        explainer.analyze(["shop_order"])
        queue = ExplainQuery(
            "queue",
            'SELECT "shop_order"."id" FROM "shop_order" WHERE "shop_order"."status" = %s '
            'ORDER BY "shop_order"."placed_at" ASC LIMIT 20',
            ["open"],
        )
        plan = explainer.explain(queue)
        assert plan is not None
        assert plan.uses("shop_order_status_31bd54_idx")
        again = advise_report(report).advice
        assert [(a.columns, a.name) for a in again if a.status == "exists"] == [
            (("-last_seen",), "shop_custom_last_se_83620b_idx"),
            (("customer_id",), "shop_order_customer_id_f638df20"),
            (("customer_id", "status"), "shop_order_custome_420169_idx"),
            (("status", "placed_at"), "shop_order_status_31bd54_idx"),
        ]
        assert "verified" not in {a.status for a in again}
    finally:
        call_command("migrate", "shop", "0001", verbosity=0)


def test_write_index_migration_nothing_verified_for_app(migrations_package: str) -> None:
    assert write_index_migration([], "shop") is None
    assert describe_migration(None, "shop") == (
        "No verified index belongs to a model of 'shop': no migration written.\n"
    )

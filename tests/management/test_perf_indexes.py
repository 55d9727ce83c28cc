from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.support.shop import record_shop, seed_shop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def report(client: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return record_shop(client, monkeypatch, tmp_path, seed_shop())


def test_perf_indexes_json_prints_only_the_list(report: Path) -> None:
    out = StringIO()
    call_command("perf_indexes", "--report", str(report), "--json", stdout=out)
    advice = json.loads(out.getvalue())
    assert [(a["status"], a["table"], a["columns"]) for a in advice] == [
        ("verified", "shop_customer", ["-last_seen"]),
        ("verified", "shop_order", ["customer_id", "status"]),
        ("verified", "shop_order", ["status", "placed_at"]),
        ("exists", "shop_order", ["customer_id"]),
        ("redundant", "shop_customer", ["region"]),
        ("duplicate", "shop_order", ["reference"]),
    ]
    assert json.loads(report.read_text())["indexes"] == []  # not written unless asked


def test_perf_indexes_update_report_and_table(report: Path) -> None:
    out = StringIO()
    call_command("perf_indexes", "--report", str(report), "--update-report", stdout=out)
    text = out.getvalue()
    assert "perftoolkit · index advice" in text
    assert "shop_order_status_31bd54_idx" in text
    assert 'migrations.AddIndex(model_name="order"' in text
    written = json.loads(report.read_text())["indexes"]
    assert [a["status"] for a in written][:3] == ["verified"] * 3
    # The report's page is rendered again, so it shows the advice too.
    page = report.with_name("index.html").read_text()
    assert '<section id="indexes"' in page
    assert "shop_order_status_31bd54_idx" in page
    assert text.rstrip().endswith(f"Updated: {report}, {report.with_name('index.html')}")


def test_perf_indexes_missing_report(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"missing\.json does not exist") as error:
        call_command("perf_indexes", "--report", str(tmp_path / "missing.json"))
    assert error.value.returncode == 1


def test_perf_indexes_write_migration_unknown_app(report: Path) -> None:
    with pytest.raises(CommandError, match="there is no installed app with that label"):
        call_command("perf_indexes", "--report", str(report), "--write-migration", "nope")

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from perftoolkit.cli.main import main
from tests.support.shop import record_shop, seed_shop

pytestmark = pytest.mark.django_db(transaction=True)


def test_cli_indexes_json(
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = record_shop(client, monkeypatch, tmp_path, seed_shop())
    assert main(["indexes", "--report", str(report), "--json", "--settings", "tests.settings"]) == 0
    advice = json.loads(capsys.readouterr().out)
    assert [a["name"] for a in advice if a["status"] == "verified"] == [
        "shop_custom_last_se_83620b_idx",
        "shop_order_custome_420169_idx",
        "shop_order_status_31bd54_idx",
    ]


def test_cli_indexes_needs_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE")
    assert main(["indexes", "--report", str(tmp_path / "report.json")]) == 1
    assert capsys.readouterr().err.startswith(
        "Error: perftoolkit indexes reads your models and EXPLAINs on your database, so it "
        "needs your Django settings: set DJANGO_SETTINGS_MODULE"
    )

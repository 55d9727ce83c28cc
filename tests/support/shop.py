"""Data and requests for the index adviser's end-to-end tests (the `shop` test app)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client

from perftoolkit.conf import reset_settings
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.schema import write_run
from tests.shop.models import Customer, Order

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CUSTOMERS = 2000
ORDERS = 6000
FIRST_CUSTOMER_ORDERS = 1200  # so "orders of one customer" is a real list, not a row or two


def seed_shop() -> Customer:
    """2,000 customers (half never seen), 6,000 orders; returns the customer with 1,200 orders."""
    Customer.objects.bulk_create(
        Customer(
            name=f"customer {n}",
            region="eu" if n % 10 else "us",
            last_seen=None if n % 2 else START + dt.timedelta(minutes=n * 7 % 9973),
        )
        for n in range(CUSTOMERS)
    )
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True))
    statuses = ["paid"] * 16 + ["shipped"] * 3 + ["open"]
    Order.objects.bulk_create(
        Order(
            customer_id=ids[0] if n < FIRST_CUSTOMER_ORDERS else ids[n % CUSTOMERS],
            # Twelve refunds, all the first customer's: the foreign key's index finds 1,200 rows
            # where (customer_id, status) finds 12.
            status=("refunded" if n % 100 == 0 else "paid")
            if n < FIRST_CUSTOMER_ORDERS
            else statuses[n % len(statuses)],
            placed_at=START + dt.timedelta(minutes=n * 13 % 99991),
            total=n % 500,
            reference=f"R{n:06d}",
        )
        for n in range(ORDERS)
    )
    return Customer.objects.get(pk=ids[0])


def record_shop(
    client: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, customer: Customer
) -> Path:
    """Request every shop view with recording on; return the report.json built from it."""
    record_dir = tmp_path / "record"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(record_dir))
    reset_settings()
    for url in (
        "/shop/queue/?status=open",
        f"/shop/mine/?customer={customer.pk}&status=refunded",
        "/shop/recent/",
        f"/shop/orders-of/?customer={customer.pk}",
    ):
        assert client.get(url).status_code == 200
    monkeypatch.delenv("PERFTOOLKIT_RECORD_DIR")
    reset_settings()
    return write_run(build_report(record_dir, label="shop"), tmp_path / "report" / "report.json")

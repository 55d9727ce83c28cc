"""A schema for the index adviser: filters and sorts that want composite indexes, plus a
redundant and a duplicate index for the review."""

from __future__ import annotations

from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=50)
    region = models.CharField(max_length=20)
    last_seen = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            # Redundant: the leading part of the next one.
            models.Index(fields=["region"], name="shop_cust_region_idx"),
            models.Index(fields=["region", "name"], name="shop_cust_region_name_idx"),
        ]


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    status = models.CharField(max_length=20)
    placed_at = models.DateTimeField()
    total = models.IntegerField()
    reference = models.CharField(max_length=20, db_index=True)

    class Meta:
        # A duplicate of the db_index above.
        indexes = [models.Index(fields=["reference"], name="shop_order_ref_dup")]

from __future__ import annotations

import pytest
from django.db import connection

from perftoolkit.indexes.introspection import table_schemas

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_table_schemas_models_fields_and_index_origins() -> None:
    schemas = table_schemas(["shop_order", "shop_customer", "no_such_table"])
    assert sorted(schemas) == ["shop_customer", "shop_order"]
    order = schemas["shop_order"]
    assert order.model == "shop.Order"
    assert order.fields["customer_id"] == "customer"
    assert order.fields["placed_at"] == "placed_at"
    assert order.primary_key == ("id",)
    plain = {i.name: (i.columns, i.origin, i.field) for i in order.indexes if not i.primary}
    like = {n for n in plain if n.endswith("_like")}  # PostgreSQL's varchar_pattern_ops twin
    assert {n: v for n, v in plain.items() if n not in like} == {
        "shop_order_customer_id_f638df20": (("customer_id",), "foreign key", "customer"),
        "shop_order_ref_dup": (("reference",), "Meta.indexes", None),
        "shop_order_reference_f6fe6de7": (("reference",), "db_index", "reference"),
    }
    assert all(i.special for i in order.indexes if i.name in like)
    assert len(like) == (1 if connection.vendor == "postgresql" else 0)
    customer = {i.name: i.origin for i in schemas["shop_customer"].indexes if not i.primary}
    assert customer == {
        "shop_cust_region_idx": "Meta.indexes",
        "shop_cust_region_name_idx": "Meta.indexes",
    }


def test_table_schemas_own_models_only() -> None:
    schemas = table_schemas(["shop_order", "auth_user", "auth_user_groups"])
    assert {t: s.own for t, s in schemas.items()} == {
        "auth_user": False,
        "auth_user_groups": False,
        "shop_order": True,
    }


def test_table_schemas_sqlite_unnamed_unique_gets_its_plan_name() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's inline UNIQUE constraints")
    schema = table_schemas(["corpus_authorprofile"])["corpus_authorprofile"]
    unique = [i for i in schema.indexes if i.unique and not i.primary]
    assert [(i.name, i.columns) for i in unique] == [
        ("sqlite_autoindex_corpus_authorprofile_1", ("author_id",))
    ]

"""Index value types, the leftmost-prefix rule, naming and migration text."""

from __future__ import annotations

import pytest
from django.db import models
from django.db.models import Index

from perftoolkit.core.indexes.advice import (
    ExistingIndex,
    IndexAdvice,
    TableSchema,
    add_index_operation,
    describe,
    index_name,
    serves,
    sort_advice,
)
from tests.shop.models import Customer, Order

PK = ExistingIndex(
    "lms_enrollment",
    "lms_enrollment_pkey",
    ("id",),
    unique=True,
    primary=True,
    origin="primary key",
)
FK_USER = ExistingIndex(
    "lms_enrollment",
    "lms_enrollment_user_id_1a2b",
    ("user_id",),
    origin="foreign key",
    field="user",
)
ENROLLMENT = TableSchema(
    table="lms_enrollment",
    model="lms.Enrollment",
    fields={
        "id": "id",
        "user_id": "user",
        "course_id": "course",
        "status": "status",
        "enrolled_at": "enrolled_at",
    },
    indexes=(PK, FK_USER),
    rows=80_000,
)


@pytest.mark.parametrize(
    ("index", "wanted", "equality", "expected"),
    [
        (("a", "b", "c"), ("a", "b"), 2, True),
        (("b", "a", "c"), ("a", "b"), 2, True),
        (("a", "c", "b"), ("a", "b"), 2, False),
        (("a",), ("a", "b"), 1, False),
        (("a", "b", "-c"), ("a", "b", "c"), 2, True),
        (("a", "-b", "c"), ("a", "b", "c"), 1, False),
        (("a", "-b", "-c"), ("a", "b", "c"), 1, True),
        (("-a",), ("a",), 0, True),
    ],
)
def test_serves_leftmost_prefix(
    index: tuple[str, ...], wanted: tuple[str, ...], equality: int, expected: bool
) -> None:
    assert serves(index, wanted, equality) is expected


@pytest.mark.parametrize(
    ("model", "fields"),
    [(Order, ["customer", "status"]), (Customer, ["-last_seen"]), (Order, ["status", "placed_at"])],
)
def test_index_name_is_djangos(model: type[models.Model], fields: list[str]) -> None:
    django_index = Index(fields=fields)
    django_index.set_name_with_model(model)
    columns = [
        ("-" if f.startswith("-") else "") + model._meta.get_field(f.lstrip("-")).column
        for f in fields
    ]
    assert index_name(model._meta.db_table, columns) == django_index.name
    assert len(django_index.name) <= 30


def test_add_index_operation_uses_field_names() -> None:
    assert add_index_operation(
        ENROLLMENT, ("user_id", "course_id", "status"), "lms_enrollm_user_id_0c9a2d_idx"
    ) == (
        'migrations.AddIndex(model_name="enrollment", index=models.Index('
        'fields=["user", "course", "status"], name="lms_enrollm_user_id_0c9a2d_idx"))'
    )
    assert add_index_operation(TableSchema("raw_table"), ("a",), "x") == ""


def test_describe_and_sort_advice() -> None:
    assert describe(("user_id", "-last_login")) == "user_id, last_login DESC"
    items = [
        IndexAdvice("b", ("x",), "unused"),
        IndexAdvice("b", ("x",), "exists"),
        IndexAdvice("a", ("y",), "rejected"),
        IndexAdvice("c", ("z",), "verified"),
    ]
    assert [a.status for a in sort_advice(items)] == ["verified", "rejected", "exists", "unused"]


def test_index_advice_round_trip_keeps_contract_keys() -> None:
    advice = IndexAdvice(
        "lms_userprofile",
        ("-last_login",),
        "verified",
        model="lms.UserProfile",
        est_cost_before=10.5,
    )
    data = advice.to_dict()
    assert sorted(data) == sorted(
        [
            "table",
            "columns",
            "model",
            "status",
            "reason",
            "plan_before",
            "plan_after",
            "est_cost_before",
            "est_cost_after",
            "migration",
            "queries",
            "name",
        ]
    )
    assert IndexAdvice.from_dict(data) == advice


def test_table_schema_round_trip() -> None:
    assert TableSchema.from_dict(ENROLLMENT.to_dict()) == ENROLLMENT
    assert ENROLLMENT.primary_key == ("id",)

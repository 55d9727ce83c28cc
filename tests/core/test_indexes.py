"""Candidate index rules on plain data: shapes in, candidates (or the index serving them) out."""

from __future__ import annotations

import pytest
from django.db import models
from django.db.models import Index

from perftoolkit.core.indexes import (
    Candidate,
    ExistingIndex,
    IndexAdvice,
    TableSchema,
    add_index_operation,
    describe,
    index_name,
    merge_candidates,
    propose,
    serves,
    sort_advice,
)
from perftoolkit.core.sqlshape import parse_statement
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
MEDIA = TableSchema(
    table="lms_mediafile",
    model="lms.MediaFile",
    fields={
        "id": "id",
        "owner_id": "owner",
        "processing_status": "processing_status",
        "created_at": "created_at",
    },
    indexes=(ExistingIndex("lms_mediafile", "lms_mediafile_pkey", ("id",), primary=True),),
    rows=40_000,
)
PROFILE = TableSchema(
    table="lms_userprofile",
    model="lms.UserProfile",
    fields={"id": "id", "user_id": "user", "last_login": "last_login"},
    indexes=(
        ExistingIndex("lms_userprofile", "lms_userprofile_pkey", ("id",), primary=True),
        ExistingIndex(
            "lms_userprofile",
            "lms_userprofile_user_id_key",
            ("user_id",),
            unique=True,
            origin="unique",
        ),
    ),
    rows=20_000,
)
SCHEMA = {s.table: s for s in (ENROLLMENT, MEDIA, PROFILE)}


def candidates(
    sql: str, schema: dict[str, TableSchema] = SCHEMA, vendor: str = "postgresql"
) -> list[tuple[str, tuple[str, ...]]]:
    shape = parse_statement(sql, vendor)
    assert shape is not None
    return [(c.table, c.columns) for c in propose([("f1", shape)], schema).candidates]


def test_propose_equality_then_sort_columns() -> None:
    got = candidates(
        'SELECT "lms_mediafile"."id" FROM "lms_mediafile" INNER JOIN "auth_user" ON '
        '("lms_mediafile"."owner_id" = "auth_user"."id") WHERE "lms_mediafile"."processing_status" = %s '
        'ORDER BY "lms_mediafile"."created_at" ASC LIMIT 20'
    )
    # The join key owner_id is a candidate of its own (no index serves it in this schema).
    assert got == [
        ("lms_mediafile", ("processing_status", "created_at")),
        ("lms_mediafile", ("owner_id",)),
    ]


def test_propose_descending_sort_absorbs_its_not_null_range() -> None:
    got = candidates(
        'SELECT "lms_userprofile"."id" FROM "lms_userprofile" WHERE "lms_userprofile"."last_login" '
        'IS NOT NULL ORDER BY "lms_userprofile"."last_login" DESC LIMIT 20',
        vendor="sqlite",
    )
    assert got == [("lms_userprofile", ("-last_login",))]


def test_propose_primary_key_tie_breaker_is_not_indexed() -> None:
    got = candidates(
        'SELECT "lms_enrollment"."id" FROM "lms_enrollment" WHERE ("lms_enrollment"."user_id" = %s '
        'AND "lms_enrollment"."course_id" = %s AND "lms_enrollment"."status" = %s) '
        'ORDER BY "lms_enrollment"."id" ASC'
    )
    assert got == [("lms_enrollment", ("user_id", "course_id", "status"))]


def test_propose_range_after_equality_and_sort_as_alternative() -> None:
    got = candidates(
        'SELECT "lms_enrollment"."id" FROM "lms_enrollment" WHERE ("lms_enrollment"."status" = %s '
        'AND "lms_enrollment"."course_id" > %s) ORDER BY "lms_enrollment"."enrolled_at" DESC'
    )
    assert got == [
        ("lms_enrollment", ("status", "-enrolled_at")),
        ("lms_enrollment", ("status", "course_id")),
    ]


def test_propose_in_list_keeps_sort_out() -> None:
    got = candidates(
        'SELECT "lms_enrollment"."id" FROM "lms_enrollment" WHERE ("lms_enrollment"."course_id" IN '
        '(%s, %s) AND "lms_enrollment"."status" = %s) ORDER BY "lms_enrollment"."enrolled_at"'
    )
    assert got == [("lms_enrollment", ("status", "course_id"))]


def test_propose_served_by_foreign_key_index_is_exists() -> None:
    shape = parse_statement(
        'SELECT "lms_enrollment"."id" FROM "lms_enrollment" WHERE "lms_enrollment"."user_id" = %s',
        "sqlite",
    )
    assert shape is not None
    proposal = propose([("f1", shape)], SCHEMA)
    assert proposal.candidates == ()
    assert proposal.served == ((Candidate("lms_enrollment", ("user_id",), 1, ("f1",)), FK_USER),)


def test_propose_served_by_primary_key_or_join_key_is_dropped() -> None:
    by_pk = parse_statement(
        'SELECT "lms_enrollment"."id" FROM "lms_enrollment" WHERE "lms_enrollment"."id" = %s',
        "sqlite",
    )
    join = parse_statement(
        'SELECT "lms_enrollment"."id" FROM "lms_enrollment" INNER JOIN "lms_userprofile" ON '
        '("lms_enrollment"."user_id" = "lms_userprofile"."user_id")',
        "sqlite",
    )
    assert by_pk is not None
    assert join is not None
    proposal = propose([("f1", by_pk), ("f2", join)], SCHEMA)
    assert proposal.candidates == ()
    assert proposal.served == ()


def test_propose_equality_columns_in_any_order_are_served() -> None:
    composite = ExistingIndex(
        "lms_enrollment",
        "idx_enrollment_active",
        ("user_id", "course_id", "status"),
        origin="Meta.indexes",
    )
    schema = {
        **SCHEMA,
        "lms_enrollment": TableSchema(
            table="lms_enrollment",
            model="lms.Enrollment",
            fields=ENROLLMENT.fields,
            indexes=(PK, FK_USER, composite),
            rows=80_000,
        ),
    }
    shape = parse_statement(
        'SELECT 1 AS "a" FROM "lms_enrollment" WHERE ("lms_enrollment"."status" = %s AND '
        '"lms_enrollment"."course_id" = %s AND "lms_enrollment"."user_id" = %s) LIMIT 1',
        "postgresql",
    )
    assert shape is not None
    proposal = propose([("f1", shape)], schema)
    assert proposal.candidates == ()
    assert [(c.columns, i.name) for c, i in proposal.served] == [
        (("status", "course_id", "user_id"), "idx_enrollment_active")
    ]


def test_propose_small_tables_are_left_alone() -> None:
    shape = parse_statement(
        'SELECT "lms_mediafile"."id" FROM "lms_mediafile" WHERE "lms_mediafile"."processing_status" = %s',
        "sqlite",
    )
    assert shape is not None
    proposal = propose([("f1", shape)], SCHEMA, min_rows=50_000)
    assert proposal.candidates == ()
    assert proposal.small == ("lms_mediafile",)


def test_propose_unknown_tables_and_columns_are_skipped() -> None:
    assert candidates('SELECT "x"."id" FROM "x" WHERE "x"."a" = %s') == []
    assert (
        candidates(
            'SELECT "lms_mediafile"."id" FROM "lms_mediafile" WHERE "lms_mediafile"."nope" = %s'
        )
        == []
    )


def test_merge_candidates_prefix_folds_into_longer() -> None:
    count = Candidate("lms_mediafile", ("processing_status",), 1, ("count",))
    page = Candidate("lms_mediafile", ("processing_status", "created_at"), 1, ("page",))
    other = Candidate("lms_mediafile", ("created_at",), 0, ("other",))
    assert merge_candidates([count, page, other]) == [
        Candidate("lms_mediafile", ("processing_status", "created_at"), 1, ("page", "count")),
        other,
    ]


def test_merge_candidates_reversed_single_column_is_one() -> None:
    ranged = Candidate("lms_userprofile", ("last_login",), 0, ("count",))
    ordered = Candidate("lms_userprofile", ("-last_login",), 0, ("page",))
    assert merge_candidates([ranged, ordered]) == [
        Candidate("lms_userprofile", ("last_login",), 0, ("count", "page"))
    ]


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

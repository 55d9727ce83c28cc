"""Candidate rules on plain data: statements in, candidates (or the index serving them) out."""

from __future__ import annotations

from dataclasses import replace

from perftoolkit.core.indexes.advice import (
    ExistingIndex,
    TableSchema,
)
from perftoolkit.core.indexes.candidates import Candidate, merge_candidates, propose
from perftoolkit.core.indexes.sqlshape import parse_statement

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
    """One index for both, written as the ORDER BY asks whichever statement came first (their
    order is that of their measured times)."""
    ranged = Candidate("lms_userprofile", ("last_login",), 0, ("count",))
    ordered = Candidate("lms_userprofile", ("-last_login",), 0, ("page",))
    assert merge_candidates([ranged, ordered]) == [
        Candidate("lms_userprofile", ("-last_login",), 0, ("page", "count"))
    ]
    assert merge_candidates([ordered, ranged]) == [
        Candidate("lms_userprofile", ("-last_login",), 0, ("page", "count"))
    ]


def test_merge_candidates_reorders_equality_to_serve_both() -> None:
    page = Candidate("lms_enrollment", ("course_id", "status", "user_id"), 3, ("page",))
    mine = Candidate("lms_enrollment", ("user_id", "status"), 2, ("mine",))
    assert merge_candidates([page, mine]) == [
        Candidate("lms_enrollment", ("user_id", "status", "course_id"), 3, ("page", "mine"))
    ]


def test_merge_candidates_orders_equality_by_use() -> None:
    page = Candidate("lms_enrollment", ("course_id", "status", "user_id"), 3, ("page",))
    weights = {("lms_enrollment", "user_id"): 4, ("lms_enrollment", "course_id"): 2}
    assert merge_candidates([page], weights)[0].columns == ("user_id", "course_id", "status")


def test_merge_candidates_keeps_sets_that_cannot_both_lead() -> None:
    wide = Candidate("t", ("a", "b", "c", "d"), 4, ("wide",))
    left = Candidate("t", ("a", "b"), 2, ("left",))
    right = Candidate("t", ("c", "d"), 2, ("right",))
    assert merge_candidates([wide, left, right]) == [
        Candidate("t", ("a", "b", "c", "d"), 4, ("wide", "left")),
        right,
    ]


def test_merge_candidates_tail_is_not_reordered_for() -> None:
    wide = Candidate("t", ("a", "b", "c"), 3, ("wide",))
    ranged = Candidate("t", ("c", "a"), 1, ("ranged",))  # c = ?, then a range on a
    # (c, a, b) would serve both; a range or sort tail is not reordered for, so two stay.
    assert merge_candidates([wide, ranged]) == [wide, ranged]


def test_propose_one_exists_entry_per_serving_index() -> None:
    composite = ExistingIndex(
        "lms_mediafile", "idx_media_processing", ("processing_status", "created_at")
    )
    schema = {"lms_mediafile": replace(MEDIA, indexes=(*MEDIA.indexes, composite))}
    count = parse_statement(
        'SELECT COUNT(*) FROM "lms_mediafile" WHERE "lms_mediafile"."processing_status" = %s',
        "sqlite",
    )
    page = parse_statement(
        'SELECT "lms_mediafile"."id" FROM "lms_mediafile" WHERE "lms_mediafile"."processing_status" = %s '
        'ORDER BY "lms_mediafile"."created_at" ASC LIMIT 20',
        "sqlite",
    )
    assert count is not None
    assert page is not None
    proposal = propose([("count", count), ("page", page)], schema)
    assert [(c.columns, c.queries, i.name) for c, i in proposal.served] == [
        (("processing_status", "created_at"), ("page", "count"), "idx_media_processing")
    ]

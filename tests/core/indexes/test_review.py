from __future__ import annotations

from perftoolkit.core.indexes.advice import ExistingIndex, TableSchema
from perftoolkit.core.indexes.review import IndexUsage, review_indexes

T = "lms_enrollment"
PK = ExistingIndex(
    T, "lms_enrollment_pkey", ("id",), unique=True, primary=True, origin="primary key"
)
FK = ExistingIndex(
    T, "lms_enrollment_user_id_1a2b", ("user_id",), origin="foreign key", field="user"
)
COMPOSITE = ExistingIndex(
    T, "idx_enrollment_active", ("user_id", "course_id", "status"), origin="Meta.indexes"
)
COPY = ExistingIndex(
    T, "idx_enrollment_copy", ("user_id", "course_id", "status"), origin="Meta.indexes"
)
UNIQUE = ExistingIndex(
    T, "uniq_user_course", ("user_id", "course_id"), unique=True, origin="unique"
)
PARTIAL = ExistingIndex(T, "active_only", ("user_id",), special=True, origin="Meta.indexes")


def schema(*indexes: ExistingIndex) -> dict[str, TableSchema]:
    return {
        T: TableSchema(
            T, model="lms.Enrollment", fields={"user_id": "user"}, indexes=(PK, *indexes)
        )
    }


def test_review_indexes_foreign_key_prefix_is_redundant() -> None:
    (advice,) = review_indexes(schema(FK, COMPOSITE), [T])
    assert (advice.status, advice.name, advice.columns, advice.model) == (
        "redundant",
        FK.name,
        ("user_id",),
        "lms.Enrollment",
    )
    assert advice.reason == (
        "lms_enrollment_user_id_1a2b (user_id) is the leading part of idx_enrollment_active "
        "(user_id, course_id, status), which serves every lookup and ordering it does: set "
        "db_index=False on lms.Enrollment.user."
    )
    assert advice.migration == ""


def test_review_indexes_duplicate_keeps_the_stronger() -> None:
    found = review_indexes(schema(COMPOSITE, COPY, UNIQUE), [T])
    assert [(a.status, a.name) for a in found] == [("duplicate", "idx_enrollment_copy")]
    assert (
        found[0].migration
        == 'migrations.RemoveIndex(model_name="enrollment", name="idx_enrollment_copy")'
    )


def test_review_indexes_unique_partial_and_primary_never_flagged() -> None:
    assert review_indexes(schema(UNIQUE, COMPOSITE, PARTIAL), [T]) == []


def test_review_indexes_reversed_index_is_a_duplicate() -> None:
    reversed_copy = ExistingIndex(
        T, "reversed", ("-user_id", "-course_id", "-status"), origin="database"
    )
    found = review_indexes(schema(COMPOSITE, reversed_copy), [T])
    assert [(a.status, a.name) for a in found] == [("duplicate", "reversed")]
    assert found[0].reason.endswith(": drop index reversed.")


def test_review_indexes_unused_names_the_reset() -> None:
    usage = IndexUsage(
        scans={COMPOSITE.name: 0, PK.name: 0}, stats_reset="2026-11-20T08:00:00+00:00"
    )
    (advice,) = review_indexes(schema(COMPOSITE), [T], usage)
    assert advice.status == "unused"
    assert advice.reason.startswith(
        "pg_stat_user_indexes counts 0 scans of idx_enrollment_active since the statistics were "
        "last reset (2026-11-20T08:00:00+00:00)."
    )
    never = review_indexes(schema(COMPOSITE), [T], IndexUsage(scans={COMPOSITE.name: 0}))
    assert "since statistics collection began (never reset)" in never[0].reason


def test_a_small_tables_unscanned_index_is_not_unused() -> None:
    """The planner reads a table of a few hundred rows whole: no scan of its index says nothing
    about whether a bigger table would need it."""
    usage = IndexUsage(scans={FK.name: 0})
    small = {T: TableSchema(T, model="lms.Enrollment", indexes=(PK, FK), rows=400)}
    big = {T: TableSchema(T, model="lms.Enrollment", indexes=(PK, FK), rows=50_000)}
    assert review_indexes(small, [T], usage, min_rows=1000) == []
    [unused] = review_indexes(big, [T], usage, min_rows=1000)
    assert (unused.status, unused.columns) == ("unused", ("user_id",))


def test_review_indexes_used_or_unknown_tables_are_quiet() -> None:
    assert review_indexes(schema(COMPOSITE), [T], IndexUsage(scans={COMPOSITE.name: 12})) == []
    assert review_indexes(schema(FK, COMPOSITE), ["other_table"]) == []


def test_index_usage_round_trip() -> None:
    usage = IndexUsage(scans={"a": 1}, stats_reset=None)
    assert IndexUsage.from_dict(usage.to_dict()) == usage


def test_review_indexes_leaves_tables_the_project_does_not_own() -> None:
    theirs = TableSchema(T, model="auth.Group_permissions", indexes=(PK, FK, COMPOSITE), own=False)
    assert review_indexes({T: theirs}, [T], IndexUsage(scans={COMPOSITE.name: 0})) == []

"""SQL shapes read from statements as Django 5.2 writes them for SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from perftoolkit.core.indexes.sqlshape import (
    EQ,
    IN,
    IS_NULL,
    NOT_NULL,
    RANGE,
    Column,
    JoinKey,
    Predicate,
    SortKey,
    numbered_placeholders,
    parse_statement,
    placeholder_count,
    placeholders_as_qmarks,
)

VENDORS = ["sqlite", "postgresql"]
BOOK = "corpus_book"


def col(name: str, table: str = BOOK) -> Column:
    return Column(table, name)


@pytest.mark.parametrize("vendor", VENDORS)
def test_parse_statement_equality_and_descending_sort(vendor: str) -> None:
    shape = parse_statement(
        'SELECT "corpus_book"."id", "corpus_book"."title" FROM "corpus_book" WHERE '
        '("corpus_book"."author_id" = %s AND "corpus_book"."published") '
        'ORDER BY "corpus_book"."id" DESC LIMIT 20',
        vendor,
    )
    assert shape is not None
    (block,) = shape.blocks
    assert block.kind == "SELECT"
    assert block.tables == ((BOOK, BOOK),)
    assert block.predicates == (Predicate(col("author_id"), EQ), Predicate(col("published"), EQ))
    assert block.order_by == (SortKey(col("id"), descending=True),)
    assert block.limit is True


@pytest.mark.parametrize("vendor", VENDORS)
def test_parse_statement_joins_ranges_and_mixed_sort(vendor: str) -> None:
    shape = parse_statement(
        'SELECT "corpus_review"."id" FROM "corpus_review" INNER JOIN "corpus_book" ON '
        '("corpus_review"."book_id" = "corpus_book"."id") INNER JOIN "corpus_author" ON '
        '("corpus_book"."author_id" = "corpus_author"."id") WHERE ("corpus_author"."name" = %s '
        'AND "corpus_review"."rating" >= %s) ORDER BY "corpus_review"."rating" ASC, '
        '"corpus_review"."id" DESC',
        vendor,
    )
    assert shape is not None
    (block,) = shape.blocks
    assert [t for _, t in block.tables] == ["corpus_review", BOOK, "corpus_author"]
    assert block.predicates == (
        Predicate(col("name", "corpus_author"), EQ),
        Predicate(col("rating", "corpus_review"), RANGE),
    )
    assert block.joins == (
        JoinKey(col("book_id", "corpus_review"), col("id")),
        JoinKey(col("author_id"), col("id", "corpus_author")),
    )
    assert block.order_by == (
        SortKey(col("rating", "corpus_review")),
        SortKey(col("id", "corpus_review"), descending=True),
    )
    assert shape.tables == ("corpus_author", BOOK, "corpus_review")


@pytest.mark.parametrize("vendor", VENDORS)
def test_parse_statement_null_checks_in_both_dialects(vendor: str) -> None:
    # PostgreSQL's dialect reads IS NOT NULL as a negated IS, SQLite's as NOT (… IS NULL).
    shape = parse_statement(
        'SELECT "lms_userprofile"."id" FROM "lms_userprofile" WHERE '
        '("lms_userprofile"."last_login" IS NOT NULL AND "lms_userprofile"."bio" IS NULL) '
        'ORDER BY "lms_userprofile"."last_login" DESC',
        vendor,
    )
    assert shape is not None
    assert shape.blocks[0].predicates == (
        Predicate(Column("lms_userprofile", "last_login"), NOT_NULL),
        Predicate(Column("lms_userprofile", "bio"), IS_NULL),
    )


@pytest.mark.parametrize("vendor", VENDORS)
def test_parse_statement_in_list_and_positional_group_by(vendor: str) -> None:
    shape = parse_statement(
        'SELECT "corpus_book"."author_id" AS "author_id", COUNT("corpus_book"."id") AS "n" '
        'FROM "corpus_book" WHERE "corpus_book"."author_id" IN (%s, %s, %s) GROUP BY 1',
        vendor,
    )
    assert shape is not None
    (block,) = shape.blocks
    assert block.predicates == (Predicate(col("author_id"), IN),)
    assert block.group_by == (col("author_id"),)


@pytest.mark.parametrize("vendor", VENDORS)
def test_parse_statement_correlated_subquery_alias(vendor: str) -> None:
    # Django's Exists(): the inner block's alias U0, the outer column taken as a value.
    shape = parse_statement(
        'SELECT "corpus_author"."id" FROM "corpus_author" WHERE EXISTS(SELECT %s AS "a" FROM '
        '"corpus_book" U0 WHERE (U0."author_id" = ("corpus_author"."id") AND U0."published") '
        "LIMIT 1)",
        vendor,
    )
    assert shape is not None
    outer, inner = shape.blocks
    assert outer.predicates == ()
    assert inner.tables == (("U0", BOOK),)
    assert inner.predicates == (Predicate(col("author_id"), EQ), Predicate(col("published"), EQ))


def test_parse_statement_between_and_postgres_cast_like() -> None:
    shape = parse_statement(
        'SELECT "corpus_book"."id" FROM "corpus_book" WHERE ("corpus_book"."id" < %s AND '
        '"corpus_book"."id" BETWEEN %s AND %s AND "corpus_book"."title"::text LIKE %s)',
        "postgresql",
    )
    assert shape is not None
    # A column inside a cast or LIKE is no plain index lookup.
    assert shape.blocks[0].predicates == (Predicate(col("id"), RANGE), Predicate(col("id"), RANGE))


def test_parse_statement_sqlite_like_with_escape() -> None:
    shape = parse_statement(
        'SELECT "corpus_book"."id" FROM "corpus_book" WHERE ("corpus_book"."title" LIKE %s '
        'ESCAPE \'\\\' AND "corpus_book"."author_id" = %s)',
        "sqlite",
    )
    assert shape is not None
    assert shape.blocks[0].predicates == (Predicate(col("author_id"), EQ),)


@pytest.mark.parametrize("vendor", VENDORS)
def test_parse_statement_or_is_not_an_index_lookup(vendor: str) -> None:
    shape = parse_statement(
        'SELECT "corpus_book"."id" FROM "corpus_book" WHERE ("corpus_book"."title" = %s OR '
        '"corpus_book"."title" = %s)',
        vendor,
    )
    assert shape is not None
    assert shape.blocks[0].predicates == ()


@pytest.mark.parametrize("vendor", VENDORS)
def test_parse_statement_update_and_delete(vendor: str) -> None:
    update = parse_statement(
        'UPDATE "lms_subscription" SET "ai_usage_today" = %s WHERE "lms_subscription"."id" = %s',
        vendor,
    )
    delete = parse_statement(
        'DELETE FROM "corpus_book" WHERE "corpus_book"."id" IN (%s, %s)', vendor
    )
    assert update is not None
    assert delete is not None
    assert update.kind == "UPDATE"
    assert update.blocks[0].predicates == (Predicate(Column("lms_subscription", "id"), EQ),)
    assert delete.kind == "DELETE"
    assert delete.blocks[0].predicates == (Predicate(col("id"), IN),)


def test_parse_statement_count_over_subquery() -> None:
    shape = parse_statement(
        'SELECT COUNT(*) FROM (SELECT DISTINCT "corpus_book"."id" AS "col1" FROM "corpus_book" '
        'WHERE "corpus_book"."author_id" = %s) subquery',
        "postgresql",
    )
    assert shape is not None
    assert [b.tables for b in shape.blocks] == [(), ((BOOK, BOOK),)]
    assert shape.blocks[1].predicates == (Predicate(col("author_id"), EQ),)


def test_parse_statement_sort_on_an_expression_is_incomplete() -> None:
    shape = parse_statement(
        'SELECT "corpus_book"."id" FROM "corpus_book" ORDER BY "corpus_book"."author_id", '
        'LOWER("corpus_book"."title")',
        "sqlite",
    )
    assert shape is not None
    assert shape.blocks[0].order_by == (SortKey(col("author_id")),)
    assert shape.blocks[0].order_complete is False


@pytest.mark.parametrize(
    "sql", ["INSERT INTO t (a) VALUES (%s)", 'SAVEPOINT "s1"', "SELECT FROM WHERE ((", ""]
)
def test_parse_statement_other_statements_are_none(sql: str) -> None:
    assert parse_statement(sql, "sqlite") is None


def test_placeholders_outside_literals() -> None:
    sql = "SELECT a FROM t WHERE b = %s AND c LIKE '%s%%' AND d = %s AND e LIKE 'x%%'"
    assert placeholders_as_qmarks(sql) == (
        "SELECT a FROM t WHERE b = ? AND c LIKE '%s%%' AND d = ? AND e LIKE 'x%%'"
    )
    assert placeholder_count(sql) == 2
    assert numbered_placeholders("SELECT a FROM t WHERE b = %s AND c = %s AND d % 2 = %%") == (
        "SELECT a FROM t WHERE b = $1 AND c = $2 AND d % 2 = %"
    )

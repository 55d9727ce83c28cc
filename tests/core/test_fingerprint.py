from __future__ import annotations

import pytest

from perftoolkit.core.fingerprint import fingerprint, is_write, normalize, statement_kind, tables


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM t WHERE id = 5", "SELECT * FROM t WHERE id = ?"),
        ("SELECT * FROM t WHERE id = %s", "SELECT * FROM t WHERE id = ?"),
        ("SELECT * FROM t WHERE name = 'it''s'", "SELECT * FROM t WHERE name = ?"),
        ("SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (...)"),
        ("SELECT * FROM t WHERE id IN (%s, %s)", "SELECT * FROM t WHERE id IN (...)"),
        ("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", "INSERT INTO t (a, b) VALUES (...)"),
        ("SELECT  a,\n  b FROM t -- note\nWHERE x > 1.5", "SELECT a, b FROM t WHERE x > ?"),
        (
            "SELECT /* hint */ a FROM t WHERE d = $1 AND e = :since",
            "SELECT a FROM t WHERE d = ? AND e = ?",
        ),
        ('SAVEPOINT "s140_x12"', "SAVEPOINT ?"),
        ("SELECT col2 FROM t2 WHERE a-1 > -3", "SELECT col2 FROM t2 WHERE a-? > ?"),
        ('SELECT "t"."v1" FROM "t" LIMIT 21', 'SELECT "t"."v1" FROM "t" LIMIT ?'),
    ],
)
def test_normalize_literals_out(sql: str, expected: str) -> None:
    assert normalize(sql) == expected


def test_fingerprint_same_shape_same_id() -> None:
    assert fingerprint("SELECT * FROM t WHERE id = 1") == fingerprint(
        "SELECT * FROM t WHERE id = %s"
    )
    assert fingerprint("SELECT * FROM t WHERE id IN (1)") == fingerprint(
        "SELECT * FROM t WHERE id IN (1, 2)"
    )
    assert fingerprint("SELECT a FROM t") != fingerprint("SELECT b FROM t")
    assert len(fingerprint("SELECT 1")) == 16


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", "SELECT"),
        ("  update t set a = 1", "UPDATE"),
        ("WITH x AS (SELECT 1) DELETE FROM t WHERE a IN (SELECT * FROM x)", "DELETE"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "SELECT"),
        ("", ""),
    ],
)
def test_statement_kind(sql: str, kind: str) -> None:
    assert statement_kind(sql) == kind


def test_is_write() -> None:
    assert is_write("INSERT INTO t VALUES (1)")
    assert is_write('DELETE FROM "t"')
    assert not is_write("SELECT * FROM t")


def test_tables_quoted_and_joined() -> None:
    sql = (
        'SELECT "a"."id" FROM "lms_course" "a" INNER JOIN "auth_user" ON ("a"."u_id" = "auth_user"."id") '
        'LEFT OUTER JOIN "lms_category" ON (1=1) WHERE "a"."id" IN (SELECT U0."id" FROM "lms_tag" U0)'
    )
    assert tables(sql) == ("auth_user", "lms_category", "lms_course", "lms_tag")
    assert tables('UPDATE "x" SET a = 1') == ("x",)
    assert tables("INSERT INTO y (a) VALUES (1)") == ("y",)


def test_tables_upsert_and_locking_keywords_are_not_tables() -> None:
    upsert = (
        'INSERT INTO "thumbnail_kvstore" ("key", "value") VALUES (%s, %s) '
        'ON CONFLICT("key") DO UPDATE SET "value" = EXCLUDED."value"'
    )
    assert tables(upsert) == ("thumbnail_kvstore",)
    assert tables('SELECT "a"."id" FROM "a" FOR UPDATE OF "a" NOWAIT') == ("a",)

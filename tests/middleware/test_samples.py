"""Sample parameters: what `SAMPLES` keeps, which values are secrets, who may read the files."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from perftoolkit.conf import reset_settings
from perftoolkit.middleware.samples import SecretNames, looks_secret, redaction, words
from tests.corpus.data import seed
from tests.support.recordings import written_lines

NAMES = SecretNames.configured(())


@pytest.mark.parametrize(
    ("sql", "params", "reason"),
    [
        # Placed on columns that are no secret: kept.
        ('SELECT "a"."id" FROM "lms_course" "a" WHERE "a"."author_id" = %s', [3], None),
        ('SELECT "b"."id" FROM "book" "b" WHERE "b"."title" LIKE %s ESCAPE \'\\\'', ["%x%"], None),
        ('SELECT "b"."id" FROM "book" "b" WHERE "b"."id" IN (%s, %s) LIMIT %s', [1, 2, 21], None),
        ('SELECT %s AS "a" FROM "book" WHERE "book"."id" = %s LIMIT 1', [1, 4], None),
        ('SELECT "b"."id" FROM "book" "b" WHERE "b"."t" = \'%s\' AND "b"."id" = %s', [4], None),
        (
            'SELECT "b"."id" FROM "book" "b" WHERE "b"."id" IN (SELECT "c"."book_id" FROM "c" WHERE "c"."n" > %s)',
            [5],
            None,
        ),
        (
            'INSERT INTO "book" ("title", "author_id") VALUES (%s, %s), (%s, %s)',
            ["a", 1, "b", 2],
            None,
        ),
        (
            'UPDATE "book" SET "title" = CASE WHEN ("book"."id" = %s) THEN %s ELSE "book"."title" END',
            [1, "x"],
            None,
        ),
        ('SELECT "b"."id" FROM "book" "b" WHERE "b"."id" = %s', [], None),
        # Bound to a column, or a column of a table, named like a secret.
        (
            'SELECT "u"."id" FROM "users" "u" WHERE "u"."api_key" = %s',
            ["k"],
            "values bound to users.api_key",
        ),
        (
            'SELECT "u"."id" FROM "users" "u" WHERE "u"."userEmail" = %s',
            ["k"],
            "values bound to users.userEmail",
        ),
        (
            'UPDATE "auth_user" SET "password" = %s, "last_login" = %s WHERE "auth_user"."id" = %s',
            ["h", None, 1],
            "values bound to auth_user.password, auth_user.last_login, auth_user.id",
        ),
        (
            'SELECT "p"."id" FROM "profile" "p" WHERE UPPER("p"."email"::text) = UPPER(%s)',
            ["x"],
            "values bound to profile.email",
        ),
        # A statement on a table that exists to hold secrets keeps nothing.
        (
            'SELECT "django_session"."session_data" FROM "django_session" WHERE "django_session"."session_key" = %s AND "django_session"."expire_date" > %s',
            ["k", "2026-01-01"],
            "a query on django_session",
        ),
        (
            'INSERT INTO "authtoken_token" ("key", "user_id", "created") VALUES (%s, %s, %s)',
            ["k", 1, "t"],
            "a query on authtoken_token",
        ),
        (
            'SELECT "b"."id" FROM "book" "b" INNER JOIN "authtoken_token" "t" ON ("t"."user_id" = "b"."owner_id") WHERE "b"."id" = %s',
            [1],
            "a query on authtoken_token",
        ),
        # A value that looks like a secret, whatever its column.
        (
            'SELECT "u"."id" FROM "users" "u" WHERE "u"."login" = %s',
            ["ann@example.org"],
            "parameter 1 (its value looks like a secret)",
        ),
        (
            'SELECT "u"."id" FROM "users" "u" WHERE "u"."login" = %s',
            ["f00dface5ecre7c0ffee01234567"],
            "parameter 1 (its value looks like a secret)",
        ),
        (
            'SELECT "u"."id" FROM "users" "u" WHERE "u"."x" = %s',
            ["pbkdf2_sha256$1000$salt$hash="],
            "parameter 1 (its value looks like a secret)",
        ),
        (
            'SELECT "u"."id" FROM "users" "u" WHERE "u"."x" = %s',
            [b"\x00raw"],
            "parameter 1 (its value looks like a secret)",
        ),
        # Cannot be placed: nothing kept.
        (
            'SELECT "u"."id" FROM "users" "u" WHERE %s = %s',
            [1, 1],
            "parameter 1 is not bound to a column",
        ),
        (
            "SELEKT nonsense %s",
            [1],
            "the statement could not be read to place its parameters on columns",
        ),
        (
            'SELECT "u"."id" FROM "users" "u" WHERE "u"."id" = %s',
            [1, 2],
            "the statement's placeholders do not match its parameters",
        ),
        (
            'SELECT "u"."id" FROM "users" "u" WHERE "u"."id" = %(id)s',
            {"id": 1},
            "named parameters (not placed on columns)",
        ),
    ],
)
def test_redaction(sql: str, params: Any, reason: str | None) -> None:
    assert redaction(sql, params, "postgresql", NAMES) == reason


def test_secret_words_match_whole_words_of_names() -> None:
    assert words("session_key") == {"session", "key"}
    assert words("userEmailAddress2") == {"user", "email", "address"}
    assert NAMES.column("lms_course", "author_id") is False  # "auth" is not a word of it
    assert NAMES.column("lms_course", "keyword") is False
    assert NAMES.column("auth_user", "username") is True  # a column of an auth table
    assert NAMES.column(None, "authtoken") is True


def test_secret_columns_extend_the_defaults() -> None:
    names = SecretNames.configured(("slug", "lms_course.title"))
    assert names.column("lms_category", "slug") is True
    assert names.column("lms_course", "title") is True
    assert names.column("lms_lesson", "title") is False
    assert NAMES.column("lms_category", "slug") is False


def test_values_that_look_secret() -> None:
    assert looks_secret("someone@example.com")
    assert looks_secret("argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA")
    assert looks_secret("0f8fad5b-d9cb-469f-a165-70867728950e")
    assert looks_secret(["ok", "a1b2c3d4e5f6a7b8c9"])
    for value in ("pending", "2026-01-01", "intro-to-python", 12, None, 1.5, "pi_enroll_42"):
        assert not looks_secret(value)


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    def run(samples: str | None, *paths: str) -> Path:
        directory = tmp_path / f"rec-{samples}"
        monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(directory))
        setting = {"MODE": "off"} if samples is None else {"MODE": "off", "SAMPLES": samples}
        with override_settings(PERFTOOLKIT=setting):
            reset_settings()
            for path in paths:
                Client().get(path)
            # Held requests are sampled as their lines are written: under these settings.
            assert len(written_lines(directory)) == len(paths)
        return directory

    return run


@pytest.mark.django_db
def test_samples_are_private_to_their_owner(record: Any) -> None:
    seed()
    directory = record(None, "/corpus/fk/", "/corpus/count/")
    samples = directory / "samples"
    assert stat.S_IMODE(samples.stat().st_mode) == 0o700
    files = list(samples.glob("*.json"))
    assert len(files) >= 3
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}


@pytest.mark.django_db
def test_an_older_samples_directory_is_made_private(record: Any, tmp_path: Path) -> None:
    seed()
    (tmp_path / "rec-None" / "samples").mkdir(parents=True, mode=0o755)
    record(None, "/corpus/fk/")
    assert stat.S_IMODE((tmp_path / "rec-None" / "samples").stat().st_mode) == 0o700


@pytest.mark.django_db
def test_samples_on_off_and_redacted(record: Any) -> None:
    seed()
    on = record("on", "/corpus/fk/")
    redacted = record("redacted", "/corpus/fk/")
    off = record("off", "/corpus/fk/")
    assert not (off / "samples").exists()
    assert list(off.glob("*.jsonl"))  # requests are still recorded
    kept = {
        json.loads(f.read_text())["sql"]: json.loads(f.read_text())
        for f in (on / "samples").glob("*.json")
    }
    same = {
        json.loads(f.read_text())["sql"]: json.loads(f.read_text())
        for f in (redacted / "samples").glob("*.json")
    }
    assert kept.keys() == same.keys()
    assert any(s["params"] for s in kept.values())
    assert kept == same  # the corpus binds nothing secret: redacted keeps what "on" keeps


@pytest.mark.django_db
def test_secret_columns_setting_redacts_more(
    record: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seed()
    directory = tmp_path / "rec-more"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(directory))
    with override_settings(PERFTOOLKIT={"MODE": "off", "SECRET_COLUMNS": ["author"]}):
        reset_settings()
        Client().get("/corpus/fk/")
        assert len(written_lines(directory)) == 1
    samples = [json.loads(f.read_text()) for f in (directory / "samples").glob("*.json")]
    by_author = [s for s in samples if '"corpus_author"."id" = %s' in s["sql"]]
    assert by_author
    assert all(s["params"] is None and "corpus_author.id" in s["redacted"] for s in by_author)

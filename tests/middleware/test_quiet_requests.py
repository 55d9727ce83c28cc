"""In log and raise modes the profile is built only when a built-in detector could fire."""

from __future__ import annotations

from perftoolkit.middleware.capture.capture import RawQuery
from perftoolkit.middleware.query_budget import _nothing_to_find


def query(sql: str, eager: tuple[tuple[str, str], ...] = ()) -> RawQuery:
    return RawQuery(sql, (), False, "default", 0.1, None, None, eager=eager)


def test_what_no_built_in_detector_can_find() -> None:
    select = 'SELECT "book"."id" FROM "book" WHERE "book"."id" = %s'
    assert _nothing_to_find([]) is True
    assert _nothing_to_find([query(select)]) is True
    assert _nothing_to_find([query(select), query(select)]) is False  # N+1, duplicates
    assert _nothing_to_find([query('UPDATE "book" SET "title" = %s')]) is False  # a write
    assert _nothing_to_find([query(select, eager=(("select_related", "author"),))]) is False

from __future__ import annotations

import pytest
from django.test import Client

from perftoolkit.budgets.block import query_budget
from perftoolkit.exceptions import ConfigurationError, QueryBudgetExceeded
from tests.corpus.models import Author, Book, Country, Publisher, Tag
from tests.support.corpus import line_of

VIEWS = "tests/corpus/views.py"

pytestmark = pytest.mark.django_db


@pytest.fixture
def books() -> None:
    publisher = Publisher.objects.create(name="p", country=Country.objects.create(name="c"))
    for i in range(4):
        Book.objects.create(
            title=f"b{i}", author=Author.objects.create(name=f"a{i}", publisher=publisher)
        )
    Tag.objects.create(name="python")


def test_query_budget_within_budget(books: None, client: Client) -> None:
    with query_budget(5) as capture:
        client.get("/corpus/fk/")
    assert len(capture.queries) == 5


def test_query_budget_over_lists_statements_and_the_fix(books: None, client: Client) -> None:
    with pytest.raises(QueryBudgetExceeded) as info, query_budget(2, what="GET /corpus/fk/"):
        client.get("/corpus/fk/")
    lines = str(info.value).splitlines()
    assert lines[0] == "GET /corpus/fk/ is over its query budget: queries 5 > 2 (+3)."
    assert lines[1] == "5 queries, 2 distinct (count × statement, where):"
    assert lines[2].startswith('    4 × SELECT "corpus_author"."id"')
    fk = line_of(VIEWS, "# case: fk")
    assert lines[3] == f"        at {VIEWS}:{fk}"
    assert lines[4].startswith('    1 × SELECT "corpus_book"."id"')
    assert lines[5] == f"        at {VIEWS}:{fk}"
    assert lines[6] == "Findings:"
    assert lines[7].startswith(f"  - n_plus_one at {VIEWS}:{fk}: N+1: Book.author")
    assert lines[8] == '    fix: .select_related("author")'
    assert lines[-1] == "(add -v to see whole statements)"
    assert info.value.exit_code == 3


def test_query_budget_duplicates(books: None, client: Client) -> None:
    with query_budget(2):
        client.get("/corpus/duplicate/")
    with pytest.raises(QueryBudgetExceeded) as info, query_budget(2, duplicates=0):
        client.get("/corpus/duplicate/")
    assert str(info.value).startswith(
        "The query_budget block is over its query budget: duplicates 1 > 0 (+1).\n"
        "2 queries, 1 distinct (count × statement, where):\n"
        '    2 × SELECT "corpus_tag"."id"'
    )
    duplicate = line_of(VIEWS, "# case: duplicate")
    assert f"  - duplicate_query at {VIEWS}:{duplicate}:" in str(info.value)


@pytest.mark.django_db(databases=["default", "other"])
def test_query_budget_counts_every_alias() -> None:
    from django.db import connections

    def both() -> None:
        for alias in ("default", "other"):
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")

    with pytest.raises(QueryBudgetExceeded, match="queries 2 > 1"), query_budget(1):
        both()


def test_query_budget_nested_blocks_each_judge_their_own(books: None) -> None:
    with query_budget(3) as outer:
        Book.objects.count()
        with query_budget(1) as inner:
            Author.objects.count()
        Tag.objects.count()
    assert (len(outer.queries), len(inner.queries)) == (3, 1)


def test_query_budget_does_not_judge_a_failing_block() -> None:
    def fails() -> None:
        Book.objects.count()
        raise KeyError("boom")

    with pytest.raises(KeyError), query_budget(0):
        fails()


@pytest.mark.parametrize(
    ("queries", "duplicates"), [(-1, None), (True, None), (2.5, None), (1, -1)]
)
def test_query_budget_rejects_bad_limits(queries: object, duplicates: object) -> None:
    with pytest.raises(ConfigurationError, match=r"takes a whole number of at least 0"):
        query_budget(queries, duplicates=duplicates)  # type: ignore[arg-type]

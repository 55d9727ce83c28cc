from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from perftoolkit.budgets.block import query_budget
from perftoolkit.exceptions import CaptureFailed, ConfigurationError, QueryBudgetExceeded
from perftoolkit.middleware.capture import accesses, cachestats, failures
from perftoolkit.middleware.capture import capture as capture_module
from perftoolkit.middleware.capture.capture import QueryCapture
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


# perftoolkit's own hooks made to fail, as in tests/reliability/test_never_breaking_host.py.
class InjectedFault(Exception):
    pass


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise InjectedFault("injected")


# (object, attribute, replacement, the place that abandons the capture, queries counted before)
CAPTURE_FAULTS = {
    "frame-walk": (capture_module, "walk", _boom, "query", 0),
    "cache-counter": (cachestats, "_counters", _boom, "cache", 2),
    "relation-read": (accesses, "_ORM_DIR", None, "access", 3),  # `None in str`: a TypeError
}
REAL_QUERIES = 7


@pytest.fixture
def _forget_failures() -> Iterator[None]:
    failures.reset()
    yield
    failures.reset()


def _seven_queries() -> None:
    """2 counts, a cache read, then the books and one author each (an N+1): 7 queries."""
    Book.objects.count()
    Author.objects.count()
    cache.get("perftoolkit-test-key")
    for book in Book.objects.order_by("id"):
        assert book.author.name


@pytest.mark.usefixtures("_forget_failures")
@pytest.mark.parametrize("fault", CAPTURE_FAULTS)
def test_query_budget_never_passes_on_an_abandoned_capture(
    books: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    """The partial count is within the budget, the real one is not: no pass, no over-budget
    verdict either, but CaptureFailed naming the hook."""
    owner, attribute, replacement, place, counted = CAPTURE_FAULTS[fault]
    monkeypatch.setattr(owner, attribute, replacement)

    def run(capture: QueryCapture) -> None:
        if fault == "relation-read":
            # Reads are noted once the capture has its tracker (its first eager load makes it).
            assert capture.access is not None
        _seven_queries()

    with (
        caplog.at_level(logging.ERROR, logger="perftoolkit"),
        pytest.raises(CaptureFailed) as info,
        query_budget(3) as capture,
    ):
        run(capture)
    assert type(info.value) is CaptureFailed
    assert not isinstance(info.value, QueryBudgetExceeded)
    assert info.value.exit_code == 1
    assert (capture.error, len(capture.queries)) == (place, counted)
    assert str(info.value) == (
        "The query_budget block could not be judged against its budget of 3 queries: "
        f"perftoolkit's own capture failed in its '{place}' hook during the block and stopped "
        f"counting, so the number of queries the code ran is unknown ({counted} counted before "
        f"the failure). The ERROR log line 'perftoolkit: internal error in {place} at …' "
        "(logger 'perftoolkit', logged once per process for each place, so possibly in an "
        "earlier test's output) has the traceback. The code under test is not at fault: report "
        "this to perftoolkit with that traceback."
    )
    # The line the message points at is there, with the traceback.
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage().startswith(f"perftoolkit: internal error in {place} at ")
    assert isinstance(error.exc_info[1], InjectedFault | TypeError)  # type: ignore[index]


@pytest.mark.usefixtures("_forget_failures")
def test_query_budget_abandoned_capture_message_names_what_was_measured(
    books: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cachestats, "_counters", _boom)
    with pytest.raises(CaptureFailed) as info, query_budget(1, what="tests/x.py::test_y"):
        _seven_queries()
    assert str(info.value).startswith(
        "tests/x.py::test_y could not be judged against its budget of 1 query: perftoolkit's "
        "own capture failed in its 'cache' hook during the block and stopped counting, so the "
        "number of queries the code ran is unknown (2 counted before the failure)."
    )


@pytest.mark.usefixtures("_forget_failures")
def test_query_budget_abandoned_capture_of_a_failing_block_lets_its_error_through(
    books: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cachestats, "_counters", _boom)

    def fails() -> None:
        _seven_queries()
        raise KeyError("boom")

    with pytest.raises(KeyError), query_budget(3) as capture:
        fails()
    assert capture.error == "cache"


@pytest.mark.usefixtures("_forget_failures")
def test_query_budget_whole_captures_judged_as_before_after_an_abandoned_one(
    books: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure belongs to one capture: the next blocks count and judge every query."""
    monkeypatch.setattr(cachestats, "_counters", _boom)
    with pytest.raises(CaptureFailed), query_budget(REAL_QUERIES):
        _seven_queries()
    monkeypatch.undo()
    with query_budget(REAL_QUERIES) as capture:
        _seven_queries()
    assert (capture.error, len(capture.queries)) == (None, REAL_QUERIES)
    with pytest.raises(QueryBudgetExceeded) as info, query_budget(REAL_QUERIES - 1):
        _seven_queries()
    assert str(info.value).startswith(
        "The query_budget block is over its query budget: queries 7 > 6 (+1).\n"
    )

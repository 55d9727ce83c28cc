"""QueryCapture on its own: scope, aliases, callsites, repeats and what the ORM knew."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.db import connections
from django.test import override_settings

from perftoolkit.core.events import CallSite
from perftoolkit.middleware.capture.capture import (
    DISPATCH,
    QueryCapture,
    active_captures,
    capture_queries,
)
from tests.corpus.data import seed
from tests.corpus.models import Author, Book

pytestmark = pytest.mark.django_db(databases=["default", "other"])
HERE = Path(__file__).resolve()
THIS_FILE = "tests/middleware/capture/test_capture.py"


def _line_of(text: str) -> int:
    return next(n for n, line in enumerate(HERE.read_text().splitlines(), 1) if text in line)


@pytest.fixture(autouse=True)
def _data(db: None) -> None:
    seed()


def test_capture_hooks_every_alias_once_and_stops_on_exit() -> None:
    with capture_queries() as capture:
        assert all(c.execute_wrappers.count(DISPATCH) == 1 for c in connections.all())
        assert active_captures() == (capture,)
        Book.objects.count()
        Book.objects.using("other").exists()
    with capture_queries():  # a second capture does not hook again
        assert all(c.execute_wrappers.count(DISPATCH) == 1 for c in connections.all())
    Book.objects.count()  # the hook stays, and records for no capture that has ended
    assert [q.alias for q in capture.queries] == ["default", "other"]
    assert active_captures() == ()


def test_a_connection_opened_after_hooking_is_hooked_before_its_first_query() -> None:
    with capture_queries():
        pass
    connection = connections.create_connection("other")  # as a new thread's connection object
    assert connection.execute_wrappers == []
    try:
        with capture_queries() as capture, connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert connection.execute_wrappers == [DISPATCH]
        assert [q.sql for q in capture.queries] == ["SELECT 1"]
    finally:
        connection.close()


def _count_then_fail(capture: QueryCapture) -> None:
    with capture:
        Book.objects.count()
        raise RuntimeError("the block failed")


def test_capture_stops_when_the_block_raises() -> None:
    capture = QueryCapture()
    with pytest.raises(RuntimeError, match="the block failed"):
        _count_then_fail(capture)
    assert len(capture.queries) == 1
    Book.objects.count()
    assert len(capture.queries) == 1
    assert active_captures() == ()


def test_capture_records_nothing_outside_its_scope() -> None:
    capture = QueryCapture()
    capture.install()
    Book.objects.count()  # hooked but not active in this context
    assert capture.queries == []


def test_nested_captures_both_see_the_inner_queries() -> None:
    with capture_queries() as outer:
        Book.objects.count()
        with capture_queries() as inner:
            Author.objects.count()
    assert len(outer.queries) == 2
    assert len(inner.queries) == 1
    assert "corpus_author" in inner.queries[0].sql


def test_capture_first_run_names_the_line_the_model_and_the_parameters() -> None:
    with capture_queries() as capture:
        list(Book.objects.filter(title="book 1"))  # capture: first run
    (query,) = capture.queries
    assert query.callsite == CallSite(
        THIS_FILE,
        _line_of("# capture: first run"),
        "test_capture_first_run_names_the_line_the_model_and_the_parameters",
    )
    assert query.model == "corpus.Book"
    assert list(query.params) == ["book 1"]
    assert query.ms >= 0.0
    assert query.relation is None


def test_capture_repeats_share_the_attribution_of_the_analysed_run() -> None:
    books = list(Book.objects.order_by("id"))
    with capture_queries() as capture:
        names = [book.author.name for book in books]  # capture: per-row author
    assert len(names) == 6
    assert len(capture.queries) == 6
    line = _line_of("# capture: per-row author")
    assert {q.callsite for q in capture.queries} == {
        CallSite(THIS_FILE, line, "test_capture_repeats_share_the_attribution_of_the_analysed_run")
    }
    relations = {
        (q.relation.model, q.relation.field, q.relation.kind) for q in capture.queries if q.relation
    }
    assert relations == {("corpus.Book", "author", "forward")}
    # The second run is analysed once; every later run shares that analysis (the stack is not
    # walked again) and the recorder encodes it once.
    analysed = capture.queries[1].template
    assert analysed is not None
    assert all(q.template is analysed for q in capture.queries[1:])
    assert capture.queries[0].template is None
    assert [q.params[0] for q in capture.queries] == [b.author_id for b in books]


def _titled(title: str) -> list[Book]:
    return list(Book.objects.filter(title=title))  # capture: shared line


def _titled_elsewhere(title: str) -> list[Book]:
    return list(Book.objects.filter(title=title))  # capture: other line


def test_a_later_capture_reuses_a_first_run_from_the_same_line_only() -> None:
    with capture_queries() as first:
        _titled("book 1")
    with capture_queries() as second:
        _titled("book 2")
    with capture_queries() as third:
        _titled_elsewhere("book 3")  # the same statement at the same depth, another line
    shared = CallSite(THIS_FILE, _line_of("# capture: shared line"), "_titled")
    (one,), (two,), (three,) = first.queries, second.queries, third.queries
    assert (one.callsite, two.callsite) == (shared, shared)
    assert three.callsite == CallSite(
        THIS_FILE, _line_of("# capture: other line"), "_titled_elsewhere"
    )
    assert one.sql == two.sql == three.sql
    assert (two.model, two.default_ordering, two.handed_off) == (
        one.model,
        one.default_ordering,
        one.handed_off,
    )
    assert [list(q.params) for q in (one, two, three)] == [["book 1"], ["book 2"], ["book 3"]]
    assert two is not one  # each capture holds its own run


def test_a_reused_first_run_still_learns_its_relation_when_it_repeats() -> None:
    captures = []
    for _ in range(2):
        books = list(Book.objects.order_by("id"))  # fresh rows: no author cached yet
        with capture_queries() as capture:
            [book.author.name for book in books]  # capture: repeated in each
        captures.append(capture)
    for capture in captures:
        assert len(capture.queries) == 6
        first = capture.queries[0]
        assert first.relation is not None
        assert (first.relation.model, first.relation.field) == ("corpus.Book", "author")
    # What the first capture learnt from its repeats stays in it: the second's first run is its own.
    assert captures[1].queries[0] is not captures[0].queries[0]


def test_capture_reverse_many_relation_is_attributed() -> None:
    authors = list(Author.objects.order_by("id"))
    with capture_queries() as capture:
        counts = [author.books.count() for author in authors]
    assert counts == [2, 1, 1, 1, 1]
    relation = capture.queries[-1].relation
    assert relation is not None
    assert (relation.model, relation.field, relation.kind, relation.via) == (
        "corpus.Author",
        "books",
        "reverse_many",
        "count",
    )


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
def test_capture_counts_cache_gets_and_hits() -> None:
    cache.set("present", 1)
    with capture_queries() as capture:
        cache.get("present")
        cache.get("absent")
        cache.get_many(["present", "absent", "also_absent"])
    assert capture.cache is not None
    assert (capture.cache.gets, capture.cache.hits) == (5, 2)


@override_settings(
    CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "later": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "l"},
    }
)
def test_capture_counts_a_cache_made_after_it_started_and_makes_none() -> None:
    with capture_queries() as capture:
        # Django closes every cache object a thread made after each request: one the
        # application never reads is not made by the capture.
        assert caches.all(initialized_only=True) == []
        caches["later"].get("absent")
        caches["later"].get_many(["absent", "also_absent"])
    assert capture.cache is not None
    assert (capture.cache.gets, capture.cache.hits) == (3, 0)


def test_capture_without_cache_tracking_has_no_counter() -> None:
    with capture_queries(track_cache=False, track_access=False) as capture:
        Book.objects.count()
    assert capture.cache is None
    assert capture.access is None
    assert len(capture.queries) == 1


def test_fk_lookups_leave_an_unevaluated_queryset_usable() -> None:
    # The frame walk can find a queryset the project has not run yet (`Author.objects.all()`
    # held by a template); reading its relations must not change it: Django caches
    # `query.base_table`, and a None cached before the first compile made the next clone of the
    # evaluated queryset raise KeyError(None) in the compiler.
    from perftoolkit.middleware.capture import lookups

    held = Author.objects.all()
    assert lookups.fk_lookups(held, "filter") == ()
    names = sorted(a.name for a in held)
    assert held.filter(name=names[0]).exists() is True
    assert "base_table" not in held.query.__dict__ or held.query.base_table is not None
    books = Book.objects.filter(author=held[0])
    (relation,) = lookups.fk_lookups(books, "filter")
    assert (relation.model, relation.field, relation.kind) == (
        "corpus.Author",
        "books",
        "reverse_many",
    )


def test_a_run_with_no_project_line_is_reused_from_the_same_library_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A statement that only library code runs (middleware's session load, DRF's authentication)
    is walked in the first request only: later requests reuse that run when the library line and
    the handler frame are where they were. The same statement from a project line is walked and
    named there."""
    from django.test import Client

    from perftoolkit.middleware.capture import capture as capture_module

    walks: list[int] = []
    real_walk = capture_module.walk

    def counted(frame: Any, **kwargs: Any) -> Any:
        walks.append(1)
        return real_walk(frame, **kwargs)

    monkeypatch.setattr(capture_module, "walk", counted)
    runs = []
    with override_settings(PERFTOOLKIT={"IGNORE_MODULES": ["tests.libraryviews"]}):
        for _ in range(3):
            with capture_queries() as capture:
                assert Client().get("/mw/library/").status_code == 200
            runs.extend(capture.queries)
        assert len(walks) == 1  # the first request only
        first, second, third = runs
        assert first.callsite is None
        assert first.model == "corpus.Book"
        for later in (second, third):
            assert later is not first
            assert (later.sql, later.callsite, later.model, later.handed_off) == (
                first.sql,
                None,
                "corpus.Book",
                first.handed_off,
            )
            assert later.params == first.params
        with capture_queries() as here:
            Book.objects.filter(title__startswith="b").count()  # capture: same statement here
    [own] = here.queries
    assert own.sql == first.sql
    assert own.callsite == CallSite(
        THIS_FILE,
        _line_of("# capture: same statement here"),
        "test_a_run_with_no_project_line_is_reused_from_the_same_library_line",
    )
    assert len(walks) == 2


@pytest.mark.django_db
def test_a_model_methods_runs_are_each_callers_own(tmp_path: Path) -> None:
    """One model line run by the view once, then per row from two template lines: three callers,
    each its runs (the line's analysis for one caller stands for no other)."""
    from tests.support.corpus import line_of, recorded_lines

    books = Book.objects.count()
    for _ in range(2):  # the second request reuses what the first learnt: still each its own
        (line,) = recorded_lines(tmp_path / str(_), "/corpus/method_callers/")
        [model_fp] = [
            fp for fp, sql in line["statements"].items() if "LIKE" in sql and "COUNT" in sql
        ]
        sites = [
            f"{line['sites'][row[2]]['file']}:{line['sites'][row[2]]['line']}"
            for row in line["queries"]
            if row[0] == model_fp
        ]
        template = "tests/templates/corpus/namesakes.html"
        assert Counter(sites) == {
            f"tests/corpus/models.py:{line_of('tests/corpus/models.py', '# model: namesakes')}": 1,
            f"{template}:2": books,
            f"{template}:5": books,
        }

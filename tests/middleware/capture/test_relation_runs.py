"""A relation read's first run in a later capture: what the earlier capture's analysis found of the
statement and its line is reused, and what belongs to the request (which query built the row read)
is found again, from the queryset at its depth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.middleware.capture import capture as capture_module
from perftoolkit.middleware.capture.capture import QueryCapture, capture_queries
from perftoolkit.middleware.record_lines import split
from tests.corpus.data import seed
from tests.corpus.models import Book
from tests.support.recordings import PATHS, record_corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def reuses(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each attempt to reuse a remembered relation run: whether it was reused. Nothing is
    remembered from before the test."""
    monkeypatch.setattr(capture_module, "_relation_runs", {})
    monkeypatch.setattr(capture_module, "_relation_repeats", {})
    attempts: list[bool] = []
    reuse = QueryCapture._reused_relation_run

    def counted(self: QueryCapture, *args: Any) -> Any:
        run = reuse(self, *args)
        attempts.append(run is not None)
        return run

    monkeypatch.setattr(QueryCapture, "_reused_relation_run", counted)
    return attempts


@pytest.fixture
def repeats(monkeypatch: pytest.MonkeyPatch, reuses: list[bool]) -> list[bool]:
    """Each attempt to record a first repeat with a remembered analysis: whether it did."""
    attempts: list[bool] = []
    reuse = QueryCapture._reuse_relation_repeat

    def counted(self: QueryCapture, *args: Any) -> bool:
        done = reuse(self, *args)
        attempts.append(done)
        return done

    monkeypatch.setattr(QueryCapture, "_reuse_relation_repeat", counted)
    return attempts


def _publishers_of(books: list[Book]) -> list[str]:
    return [book.author.publisher.name for book in books]  # relation-runs: the read


def test_a_later_capture_reuses_the_first_run_with_its_own_rows(
    reuses: list[bool], repeats: list[bool]
) -> None:
    seed()
    captures = []
    for before in (0, 1):
        with capture_queries() as capture:
            for _ in range(before):  # the rows' query is the second of this capture
                Book.objects.count()
            # The rows read are built by that query (its eager load watches them).
            books = list(Book.objects.select_related("author").order_by("id"))
            _publishers_of(books)
        captures.append(capture)
    assert reuses == [True]  # the second capture's first publisher read
    assert repeats == [True]  # and its second, the first repeat
    first, again = captures[0].queries[1], captures[1].queries[2]
    repeat, repeated = captures[0].queries[2], captures[1].queries[3]
    assert repeated.template is not repeat.template  # each capture's own analysis
    for one, other in ((repeat, repeated), (repeat.template, repeated.template)):
        assert one is not None
        assert other is not None
        assert (one.relation, one.callsite, one.model) == (
            other.relation,
            other.callsite,
            other.model,
        )
    assert (repeat.rows_from, repeated.rows_from) == (0, 1)
    assert again is not first
    line = next(
        n
        for n, text in enumerate(Path(__file__).read_text().splitlines(), 1)
        if text.endswith("# relation-runs: the read")
    )
    for run in (first, again):
        assert run.relation is not None
        assert (run.relation.model, run.relation.field, run.relation.kind) == (
            "corpus.Author",
            "publisher",
            "forward",
        )
        assert run.callsite is not None
        assert (run.callsite.line, run.callsite.function) == (line, "_publishers_of")
    # Which query built the row read is the capture's own, found again, not copied.
    assert (first.rows_from, again.rows_from) == (0, 1)
    assert (again.model, again.handed_off) == (first.model, first.handed_off)
    assert again.params == first.params


def test_a_row_of_another_class_is_analysed_again(reuses: list[bool]) -> None:
    seed()
    for run in range(2):  # (both from this line: a reuse is tried where the caller is the same)
        if run:
            ((sql, entry),) = capture_module._relation_runs.items()
            # Remembered as read on a row of another class than the rows read now.
            capture_module._relation_runs[sql] = entry._replace(row_class=dict)
        with capture_queries() as capture:
            _publishers_of(list(Book.objects.select_related("author").order_by("id")))
    assert reuses == [False]
    analysed = capture.queries[1]
    assert analysed.relation is not None
    assert (analysed.relation.field, analysed.rows_from) == ("publisher", 0)


def test_every_corpus_request_is_recorded_alike_when_it_runs_again(
    tmp_path: Path, reuses: list[bool], repeats: list[bool]
) -> None:
    lines = [json.loads(text) for text in record_corpus(tmp_path, PATHS, times=2)]
    lines.sort(key=lambda line: line["started_at"])
    assert len(lines) == 2 * len(PATHS)
    first, second = lines[: len(PATHS)], lines[len(PATHS) :]
    assert [line["path"] for line in first] == [line["path"] for line in second] == PATHS
    for line in lines:
        split(line)  # leaves each line's shape: no times, no counters
    different = [a["route"] for a, b in zip(first, second, strict=True) if a != b]
    assert different == []
    # Reused where the corpus reads a row's relation from a view's own line (most of its reads
    # are a template's, a serializer field's or a related set's), and every time it was tried.
    assert len(reuses) >= 3
    assert all(reuses)
    assert sum(repeats) >= 3

"""The relation paths by which another model's rows reach a finding's rows (tests.corpus)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from django.apps import apps

from perftoolkit.core.events import CallSite
from perftoolkit.core.findings import Finding, Fix
from perftoolkit.fix import placement
from perftoolkit.fix.placement import _function, _routes, rows_line_now
from tests.fix import viewclasses
from tests.support.corpus import line_of


def test_routes_to_author_from_each_model_that_reaches_it() -> None:
    routes = _routes(apps.get_model("corpus.Author"), depth=2)
    assert set(routes["Publisher"]) == {("authors", True)}
    assert set(routes["Country"]) == {("publishers__authors", True)}
    assert set(routes["Book"]) == {("author", False)}
    assert set(routes["Review"]) == {("book__author", False)}
    assert set(routes["Tag"]) == {("books__author", True)}
    assert set(routes["AuthorProfile"]) == {("author", False)}
    assert set(routes["Loan"]) == {("book__author", False)}  # review__book__author: 3 hops


def test_routes_stop_at_their_depth() -> None:
    assert set(_routes(apps.get_model("corpus.Author"), depth=3)["Loan"]) == {
        ("book__author", False),
        ("review__book__author", False),
    }


@pytest.mark.parametrize(
    ("newline", "bom"), [("\n", b""), ("\r\n", b""), ("\r\n", b"\xef\xbb\xbf"), ("\r", b"")]
)
def test_origin_function_found_by_pythons_line_numbers(
    tmp_path: Path, newline: str, bom: bytes
) -> None:
    path = tmp_path / "views.py"
    lines = ["def first():", "    return 1", "", "", "def second(request):", "    return 2", ""]
    path.write_bytes(bom + newline.join(lines).encode())
    found = [getattr(_function(path, line), "name", None) for line in range(1, 7)]
    assert found == ["first", "first", None, None, "second", "second"]


VIEWS = Path(__file__).with_name("viewclasses.py")
ROOT = Path(__file__).resolve().parents[2]


def _target(monkeypatch: pytest.MonkeyPatch, view: type) -> tuple[Path, int] | None:
    """Where view_target sends a finding whose origin is line 15 of viewclasses.py (the base
    class's get_context_data), for an endpoint served by `view`."""
    monkeypatch.setattr(placement, "_view_class", lambda paths: view)
    finding = Finding(
        kind="n_plus_one",
        method="GET",
        route="feedings/",
        message="N+1",
        model="core.Feeding",
        origin=CallSite("tests/fix/viewclasses.py", 15, "get_context_data"),
    )
    return placement.view_target(finding, ["/feedings/"], ROOT)


def test_origin_in_a_base_view_goes_to_the_views_model_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert VIEWS.read_text().splitlines()[15 - 1].strip().startswith("return [row.child")
    assert _target(monkeypatch, viewclasses.FeedingList) == (VIEWS, 23)


def test_a_views_own_get_queryset_comes_before_its_model(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _target(monkeypatch, viewclasses.NoteList) == (VIEWS, 31)


def test_a_view_that_does_not_inherit_the_origin_is_not_a_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _target(monkeypatch, viewclasses.Unrelated) is None
    assert _target(monkeypatch, viewclasses.SharedListView) is None


def _rows_finding(model: str, code: str) -> Finding:
    return Finding(
        kind="n_plus_one",
        method="GET",
        route="r/",
        message="N+1",
        model=model,
        # a page object's `len(self.object_list)`: a line that does not build the rows
        origin=CallSite("tests/fix/viewclasses.py", 15, "__len__"),
        fix=Fix("select_related", code),
    )


def test_a_view_functions_one_queryset_of_the_rows_is_where_they_are_built() -> None:
    finding = _rows_finding("corpus.Book", '.select_related("author")')
    where = placement.placement_for(finding, ROOT)
    views = ROOT / "tests/corpus/views.py"
    line = line_of("tests/corpus/views.py", "# origin: template_loop") - 1
    assert views.read_text().splitlines()[line - 1].strip() == 'books = Book.objects.order_by("id")'
    assert placement.function_view_target(finding, ["/corpus/template_loop/"], ROOT, where) == (
        views,
        line,
    )
    # two querysets of books: which one loaded the rows is not guessed
    assert placement.function_view_target(finding, ["/corpus/two_lists/"], ROOT, where) is None
    # a class-based view is view_target's
    assert (
        placement.function_view_target(finding, ["/corpus/list_view_model/"], ROOT, where) is None
    )


def test_a_nested_prefetch_goes_on_the_parents_querysets_only() -> None:
    code = '.prefetch_related(Prefetch("reviews", queryset=Review.objects.select_related("book")))'
    finding = _rows_finding("corpus.Review", code)
    nested = placement.placement_for(finding, ROOT)
    assert nested.models == frozenset({"Book", "ShelfBook"})  # a proxy's rows have reviews too
    # the routes lead to the books (whose reviews are prefetched), not to the reviews
    assert ("book", False) in nested.routes["Loan"]
    assert ("review", False) not in nested.routes["Loan"]
    annotated = _rows_finding("corpus.Book", '.annotate(review_count=Count("reviews"))')
    assert placement.placement_for(annotated, ROOT).models == frozenset({"Book"})


def test_a_feeds_rows_are_built_in_its_class_when_library_code_ran_their_query() -> None:
    """Django's Feed calls items() and iterates what it returns: no project line ran the query,
    so the finding has no origin; the feed class builds books in items(), one way or another
    (every return of items() is edited from its first)."""
    finding = replace(_rows_finding("corpus.Book", '.select_related("author")'), origin=None)
    where = placement.placement_for(finding, ROOT)
    assert placement.function_view_target(finding, ["/corpus/book_feed/"], ROOT, where) == (
        ROOT / "tests/corpus/views.py",
        line_of("tests/corpus/views.py", "# origin: book_feed"),
    )


VIEWS_NOW = """\
class BMIList(ListView):
    model = models.BMI
    queryset = models.BMI.objects.prefetch_related("tags")
    template_name = "core/bmi_list.html"

    class Meta:
        model = models.Other


def feed(request):
    return render(request, "feed.html", {"rows": Row.objects.all()})
"""


@pytest.mark.parametrize(
    ("line", "now"),
    [
        (2, 3),  # `model =`: an earlier fix gave the class a queryset, the fix goes there now
        (4, 3),
        (7, 7),  # in a nested class (Meta): that class is the one around the line
        (11, 11),  # not in a class: the line itself
    ],
)
def test_rows_line_now(line: int, now: int) -> None:
    assert rows_line_now(VIEWS_NOW, line) == now

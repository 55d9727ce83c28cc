"""The relation paths by which another model's rows reach a finding's rows (tests.corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps

from perftoolkit.core.events import CallSite
from perftoolkit.core.findings import Finding
from perftoolkit.fix import placement
from perftoolkit.fix.placement import _function, _routes
from tests.fix import viewclasses


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

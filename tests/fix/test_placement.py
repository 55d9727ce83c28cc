"""The relation paths by which another model's rows reach a finding's rows (tests.corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps

from perftoolkit.fix.placement import _function, _routes


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

"""A relation field of another library (django-taggit's TaggableManager): its per-row reads are
named, fixed with the prefetch the library supports, and that prefetch is not reported unused."""

from __future__ import annotations

import pytest

from tests.support.corpus import findings_for, line_of
from tests.tagged.models import Menu, Recipe

VIEWS = "tests/tagged/views.py"
TEMPLATE = "tests/templates/tagged/recipes.html"


@pytest.fixture(autouse=True)
def _recipes(db: None) -> None:
    for i in range(4):
        recipe = Recipe.objects.create(title=f"recipe {i}")
        recipe.labels.add(*["quick", "vegan", "cheap"][: i % 3 + 1])
    for i in range(3):
        Menu.objects.create(name=f"menu {i}").labels.add("lunch")


def test_a_library_relation_read_per_row_is_named_and_prefetched() -> None:
    [finding] = findings_for("/tagged/recipes/")
    assert finding.kind == "n_plus_one"
    assert (finding.model, finding.field, finding.path) == ("tagged.Recipe", "labels", "labels")
    assert finding.fix is not None
    assert finding.fix.code == '.prefetch_related("labels")'
    assert finding.repeats == 4
    assert str(finding.callsite) == f"{TEMPLATE}:2"
    assert str(finding.origin) == f"{VIEWS}:{line_of(VIEWS, '# origin: recipes')}"
    assert finding.message.startswith("N+1: Recipe.labels runs once per Recipe row (4 queries)")


def test_the_prefetch_serves_the_reads_and_is_not_reported_unused() -> None:
    assert findings_for("/tagged/recipes-prefetched/") == []


def test_a_count_of_a_library_relation_per_row_is_named() -> None:
    [finding] = findings_for("/tagged/label-counts/")
    assert (finding.model, finding.field) == ("tagged.Recipe", "labels")
    assert finding.repeats == 4
    assert str(finding.callsite) == f"{VIEWS}:{line_of(VIEWS, '# case: label_counts')}"
    assert str(finding.origin) == str(finding.callsite)  # the loop evaluates the rows there
    assert finding.fix is not None
    assert finding.fix.code == '.annotate(labels_count=Count("labels"))'


def test_one_statement_for_two_models_labels_is_two_n_plus_ones() -> None:
    found = findings_for("/tagged/timeline/")
    assert sorted((f.model, f.field, f.repeats, str(f.origin)) for f in found) == [
        ("tagged.Menu", "labels", 3, f"{VIEWS}:{line_of(VIEWS, '# origin: tl-menus')}"),
        ("tagged.Recipe", "labels", 4, f"{VIEWS}:{line_of(VIEWS, '# origin: tl-recipes')}"),
    ]
    assert {f.fix.code for f in found if f.fix} == {'.prefetch_related("labels")'}

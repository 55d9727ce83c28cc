"""Which field of a model a URL parameter named after it takes."""

from __future__ import annotations

import pytest
from taggit.models import Tag

from perftoolkit.audit.parameters import _field_for


@pytest.mark.parametrize(
    ("name", "converter", "field"),
    [
        ("tag", "slug", "slug"),  # <slug:tag>: a tag's slug, not its pk (which a slug matches)
        ("tag", "int", "pk"),
        ("tag", None, "pk"),
        ("tag_pk", "slug", "pk"),  # the name says which
        ("name", "str", "name"),  # a field of its own name
    ],
)
def test_a_parameter_named_after_a_model_takes_the_field_its_converter_suits(
    name: str, converter: str | None, field: str
) -> None:
    assert _field_for(Tag, name, converter) == field

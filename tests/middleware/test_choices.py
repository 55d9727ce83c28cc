"""Rows listed as a field's choices (a form's select, a model field's get_choices()) whose
`str()` reads a relation: the N+1's rows are queried by Django for the field, so the place to
load the relation is the field's queryset, which no line of the view builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perftoolkit.core.findings import Finding
from perftoolkit.middleware.recording import build_report
from tests.corpus.data import seed
from tests.support.corpus import findings_for, line_of, recorded_lines

FORMS = "tests/corpus/forms.py"
MODELS = "tests/corpus/models.py"

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.mariadb]


@pytest.fixture(autouse=True)
def _data(db: None) -> None:
    seed()


def _nplusone(path: str) -> Finding:
    [finding] = [f for f in findings_for(path) if f.kind == "n_plus_one"]
    assert (finding.model, finding.path, finding.repeats) == ("corpus.Book", "author", 6)
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("author")'
    return finding


def test_a_declared_model_choice_fields_queryset_is_where_the_fix_goes() -> None:
    finding = _nplusone("/corpus/choices_declared/")
    declared = f"{FORMS}:{line_of(FORMS, '# origin: choices_declared')}"
    assert str(finding.origin) == declared
    assert finding.fix is not None
    assert finding.fix.note == ""
    assert finding.message == (
        f"N+1: Book.author runs once per Book row (6 queries) at {finding.callsite}; add "
        '.select_related("author") to the queryset of PickBookForm.book, whose choices are the '
        f"Book rows ({declared})."
    )


def test_a_model_forms_field_gets_its_queryset_in_the_forms_init() -> None:
    """The field is made from the model: Meta.fields names it, and the fix says how to give it
    its queryset (keeping the one Django made: limit_choices_to, the default manager)."""
    finding = _nplusone("/corpus/choices_model_form/")
    named = f"{FORMS}:{line_of(FORMS, '# origin: choices_model_form')}"
    assert str(finding.origin) == named
    note = (
        'in the form\'s __init__, self.fields["book"].queryset = '
        'self.fields["book"].queryset.select_related("author"); in a ModelAdmin or an inline, '
        "formfield_for_foreignkey() can return the field with that queryset"
    )
    assert finding.fix is not None
    assert finding.fix.note == note
    assert finding.message == (
        f"N+1: Book.author runs once per Book row (6 queries) at {MODELS}:"
        f'{line_of(MODELS, "# case: dunder_str")}; add .select_related("author") to the queryset '
        f"of LoanForm.book, whose choices are the Book rows ({named}): {note}."
    )


def test_a_model_fields_get_choices_has_no_queryset_to_change_and_no_origin() -> None:
    """What an admin list filter lists: get_choices() queries the rows itself; the fix says so
    instead of naming the view line that called it."""
    finding = _nplusone("/corpus/choices_of_field/")
    assert finding.origin is None
    assert finding.fix is not None
    assert finding.fix.note == (
        "Django lists them with the field's get_choices(), which takes no select_related: list "
        "them yourself (in an admin list filter, a RelatedFieldListFilter subclass whose "
        'field_choices() returns [(row.pk, str(row)) for row in Book.objects.select_related("author")])'
    )
    assert finding.message.endswith(
        f"; the Book rows are the choices Loan.book lists: {finding.fix.note}."
    )


def test_the_choices_are_recorded_and_the_report_says_the_same(tmp_path: Path) -> None:
    record_dir = tmp_path / "rec"
    # The second request reuses the first's attribution.
    lines = recorded_lines(record_dir, "/corpus/choices_model_form/", "/corpus/choices_model_form/")
    assert len(lines) == 2
    for line in lines:
        [choices] = [
            row[6]["choices"] for row in line["queries"] if len(row) > 6 and "choices" in row[6]
        ]
        assert {k: v for k, v in choices.items() if k != "site"} == {
            "field": "book",
            "form": "LoanForm",
            "model": "corpus.Loan",
        }
        assert line["sites"][choices["site"]]["line"] == line_of(
            FORMS, "# origin: choices_model_form"
        )
    run = build_report(record_dir)
    [finding] = [f for f in run.findings if f.kind == "n_plus_one"]
    assert str(finding.origin) == f"{FORMS}:{line_of(FORMS, '# origin: choices_model_form')}"
    assert finding.fix is not None
    assert finding.fix.note.startswith('in the form\'s __init__, self.fields["book"].queryset')
    assert run.skipped_lines == 0


def test_a_line_whose_choices_are_not_an_object_is_skipped(tmp_path: Path) -> None:
    record_dir = tmp_path / "rec"
    record_dir.mkdir()
    row = ["0123456789abcdef", 1.0, None, None, "corpus.Book", None, {"choices": ["book"]}]
    line = {"method": "GET", "route": "r/", "statements": {"0123456789abcdef": "SELECT 1"}}
    good = {**line, "queries": [row[:6]]}
    bad = {**line, "queries": [row]}
    (record_dir / "1.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    run = build_report(record_dir)
    assert (run.skipped_lines, sum(e.requests for e in run.endpoints)) == (1, 1)
    assert run.notes[0] == (
        "Skipped 1 unreadable line of the recording: 1.jsonl:2 ('queries[0].choices' must be an "
        "object). Requests on them are not counted."
    )
